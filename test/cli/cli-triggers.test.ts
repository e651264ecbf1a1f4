// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${params.x} is a Stepwise reference, not a JS template.
// Drives the real `stepwise` binary's trigger commands (schedules, webhooks, subscriptions) against the embedded
// server, asserting what a user sees, and that what it shows works (a shown secret signs and verifies for real).
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbedded } from "../../local/embedded.ts";
import { type CliResult, expectCleanError, expectOk, runCli } from "../support/cli.ts";
import { type JsonResponse, requestJson } from "../support/http.ts";
import { pollUntil } from "../support/poll.ts";
import { type Received, type Receiver, startReceiver } from "../support/receiver.ts";
import type { Json } from "../support/stack.ts";

const API_KEY = "test-platform-key-cli-triggers-0123456789";
const TERMINAL = ["succeeded", "no_action", "failed", "cancelled"];

let stack: Awaited<ReturnType<typeof startEmbedded>>;
let dataDir: string;
let workDir: string;
let receiver: Receiver;
let receiverUrl: string;
const received: Received[] = [];

/** Runs `node bin/stepwise.js …` with the test server's URL and key, as a user's shell would. */
const cli = (...args: string[]): Promise<CliResult> =>
  runCli({ url: stack.url, apiKey: API_KEY, cwd: workDir }, ...args);

const api = (path: string, method = "GET", body?: unknown): Promise<JsonResponse> =>
  requestJson(`${stack.url}${path}`, API_KEY, method, body);

const waitForRunEnd = (runId: string): Promise<Json> =>
  pollUntil(`run ${runId} to end`, async () => {
    const run = (await api(`/api/runs/${runId}`)).body;
    return TERMINAL.includes(run.status) ? run : null;
  });

const quick = {
  name: "quick",
  parameters: { label: { type: "string", default: "none" } },
  nodes: [{ id: "main", type: "command", command: "echo label=$LABEL", env: { LABEL: "${params.label}" } }],
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-cli-trig-data-"));
  workDir = await mkdtemp(join(tmpdir(), "stepwise-cli-trig-work-"));
  receiver = await startReceiver(received);
  receiverUrl = receiver.url;
  stack = await startEmbedded({ dataDir, port: 0, apiKey: API_KEY, examplesDir: null });
  expect((await api("/api/workflows/quick", "PUT", quick)).status).toBe(201);
  expect((await api("/api/jobs/cli-job", "PUT", { workflowExecutionOrder: ["quick"] })).status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

describe("stepwise schedules", () => {
  it("applies a YAML schedule, then updates it", async () => {
    await writeFile(
      join(workDir, "nightly.yaml"),
      [
        "name: nightly",
        "target: { workflow: quick }",
        'cron: "0 9 * * MON-FRI"',
        "timezone: Europe/Berlin",
        "parameters: { label: nightly }",
        "overlap: buffer_one",
        "",
      ].join("\n"),
    );
    expect(expectOk(await cli("schedules", "apply", "nightly.yaml"))).toBe(
      "created schedule nightly: 0 9 * * MON-FRI (Europe/Berlin) → workflow quick\n",
    );
    expect(expectOk(await cli("schedules", "apply", "nightly.yaml"))).toBe(
      "updated schedule nightly: 0 9 * * MON-FRI (Europe/Berlin) → workflow quick\n",
    );
    await writeFile(
      join(workDir, "weekly-job.json"),
      JSON.stringify({ name: "weekly-job", target: { job: "cli-job" }, cron: "0 6 * * MON", timezone: "UTC" }),
    );
    expect(expectOk(await cli("schedules", "apply", "weekly-job.json"))).toBe(
      "created schedule weekly-job: 0 6 * * MON (UTC) → job cli-job\n",
    );
  });

  it("refuses a bad cron and an unknown job cleanly, naming them", async () => {
    await writeFile(
      join(workDir, "bad-cron.yaml"),
      'name: bad-cron\ntarget: { workflow: quick }\ncron: "0 25 * * *"\ntimezone: UTC\n',
    );
    expectCleanError(await cli("schedules", "apply", "bad-cron.yaml"), /0 25 \* \* \*/);
    await writeFile(join(workDir, "bad-job.yaml"), 'name: bad-job\ntarget: { job: no-such-job }\ncron: "0 6 * * *"\n');
    expectCleanError(await cli("schedules", "apply", "bad-job.yaml"), /no-such-job/);
    const listed = JSON.parse(expectOk(await cli("schedules", "list", "--json")));
    expect(listed.items.map((s: Json) => s.name)).not.toContain("bad-job");
  });

  it("lists schedules newest first, as a table and as JSON", async () => {
    const lines = expectOk(await cli("schedules", "list"))
      .trimEnd()
      .split("\n");
    expect(lines[0]).toMatch(/^NAME\s+TARGET\s+CRON\s+TIMEZONE\s+ENABLED\s+OVERLAP\s+NEXT RUN$/);
    expect(lines[1]).toMatch(
      /^weekly-job\s+job cli-job\s+0 6 \* \* MON\s+UTC\s+yes\s+skip\s+\d{4}-\d\d-\d\d 06:00:00Z$/,
    );
    expect(lines[2]).toMatch(
      /^nightly\s+workflow quick\s+0 9 \* \* MON-FRI\s+Europe\/Berlin\s+yes\s+buffer_one\s+\d{4}-\d\d-\d\d 0[78]:00:00Z$/,
    );
    expect(lines).toHaveLength(3);
    const page = JSON.parse(expectOk(await cli("schedules", "list", "--json")));
    expect(page.items.map((s: Json) => s.name)).toEqual(["weekly-job", "nightly"]);
    expect(page.nextCursor).toBeNull();
  });

  it("shows one schedule with what it last did", async () => {
    const out = expectOk(await cli("schedules", "get", "nightly"));
    expect(out).toMatch(/^schedule\s+nightly$/m);
    expect(out).toMatch(/^target\s+workflow quick$/m);
    expect(out).toMatch(/^cron\s+0 9 \* \* MON-FRI$/m);
    expect(out).toMatch(/^timezone\s+Europe\/Berlin$/m);
    expect(out).toMatch(/^parameters\s+label=nightly$/m);
    expect(out).toMatch(/^overlap\s+buffer_one$/m);
    expect(out).toMatch(/^catch-up\s+0s$/m);
    // 09:00 in Berlin is 08:00Z in winter, 07:00Z in summer.
    expect(out).toMatch(/^next run\s+\d{4}-\d\d-\d\d 0[78]:00:00Z$/m);
    // It has never fired: nothing about a last run is shown.
    expect(out).not.toMatch(/^last /m);
    const json = JSON.parse(expectOk(await cli("schedules", "get", "nightly", "--json")));
    expect(json).toMatchObject({ name: "nightly", target: { workflow: "quick" }, lastRunId: null, buffered: null });
    expect(json.nextRunAt).toMatch(/^\d{4}-\d\d-\d\dT0[78]:00:00\.000000Z$/);
  });

  it("deletes a schedule; it is gone afterwards", async () => {
    expect(expectOk(await cli("schedules", "delete", "nightly"))).toBe("deleted schedule nightly\n");
    expectCleanError(await cli("schedules", "get", "nightly"), /not found/);
    expectCleanError(await cli("schedules", "delete", "nightly"), /not found/);
    const page = JSON.parse(expectOk(await cli("schedules", "list", "--json")));
    expect(page.items.map((s: Json) => s.name)).toEqual(["weekly-job"]);
    expect(expectOk(await cli("schedules", "delete", "weekly-job"))).toBe("deleted schedule weekly-job\n");
    expect(expectOk(await cli("schedules", "list"))).toBe("no schedules\n");
  });
});

describe("stepwise webhooks", () => {
  let webhookId = "";
  let url = "";
  let secret = "";

  const post = (body: string, key = secret) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        // GitHub's way: the secret as shown is the HMAC key; every call is a new delivery.
        "x-hub-signature-256": `sha256=${createHmac("sha256", key).update(body).digest("hex")}`,
        "x-github-delivery": randomUUID(),
      },
      body,
    });

  it("creates a webhook and shows its URL and secret once; the two start a run", async () => {
    const out = expectOk(await cli("webhooks", "create", "quick"));
    webhookId = /^webhook\s+(wh_[0-9A-Z]{26})$/m.exec(out)?.[1] ?? "";
    expect(webhookId).not.toBe("");
    url = /^url\s+(\S+)$/m.exec(out)?.[1] ?? "";
    expect(url).toBe(`${stack.url}/hooks/${webhookId}`);
    secret = /^secret\s+(\S+)$/m.exec(out)?.[1] ?? "";
    expect(secret).toMatch(/^whsec_/);
    expect(out).toContain("the secret is shown only this once: store it now");

    // What the CLI showed is what a sender needs: a call signed with that secret to that URL starts a run.
    const res = await post(JSON.stringify({ label: "from-hook" }));
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    const run = await waitForRunEnd(runId);
    expect(run.status).toBe("succeeded");
    expect(run.parameters).toEqual({ label: "from-hook" });
    expect(run.trigger).toMatchObject({ type: "webhook", webhookId });
  });

  it("lists a workflow's webhooks without their secrets", async () => {
    const out = expectOk(await cli("webhooks", "list", "quick"));
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^WEBHOOK\s+URL\s+CREATED$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${webhookId}\\s+${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+\\d{4}-\\d\\d-\\d\\d \\S+Z$`),
    );
    expect(lines).toHaveLength(2);
    expect(out).not.toContain(secret);
    const json = expectOk(await cli("webhooks", "list", "quick", "--json"));
    expect(json).not.toContain(secret);
    const page = JSON.parse(json);
    expect(page.items.map((w: Json) => w.webhookId)).toEqual([webhookId]);
    expect(page.items[0]).not.toHaveProperty("secret");
  });

  it("deletes a webhook: it is no longer listed and starts nothing", async () => {
    expect(expectOk(await cli("webhooks", "delete", "quick", webhookId))).toBe(
      `deleted webhook ${webhookId} of quick\n`,
    );
    expect(expectOk(await cli("webhooks", "list", "quick"))).toBe("no webhooks for quick\n");
    const res = await post(JSON.stringify({ label: "too-late" }));
    expect(res.status).toBe(404);
  });
});

describe("stepwise subscriptions", () => {
  let secret = "";

  it("applies a subscription without a secret and shows the generated one once, clearly", async () => {
    await writeFile(
      join(workDir, "alerts.yaml"),
      `name: alerts\nurl: ${receiverUrl}/alerts\nevents: [run.succeeded]\n`,
    );
    const out = expectOk(await cli("subscriptions", "apply", "alerts.yaml"));
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toBe(`created subscription alerts → ${receiverUrl}/alerts (run.succeeded)`);
    secret = /^secret\s+(whsec_\S+)$/m.exec(out)?.[1] ?? "";
    expect(secret).not.toBe("");
    expect(out).toContain("the secret is shown only this once: store it now");

    // Applying again keeps the secret, and shows none.
    expect(expectOk(await cli("subscriptions", "apply", "alerts.yaml"))).toBe(
      `updated subscription alerts → ${receiverUrl}/alerts (run.succeeded)\n`,
    );
    // --json prints the API's answer as is: the generated secret is in it, once.
    await writeFile(
      join(workDir, "raw.json"),
      JSON.stringify({ name: "raw", url: `${receiverUrl}/raw`, events: ["*"] }),
    );
    const raw = JSON.parse(expectOk(await cli("subscriptions", "apply", "raw.json", "--json")));
    expect(raw).toMatchObject({ name: "raw", events: ["*"] });
    expect(raw.secret).toMatch(/^whsec_/);
    expect((await api("/api/subscriptions/raw", "DELETE")).status).toBe(204);
  });

  it("never prints a secret the file gave", async () => {
    const own = `whsec_${Buffer.from("my-own-signing-secret-0123456789").toString("base64")}`;
    await writeFile(
      join(workDir, "audit.json"),
      JSON.stringify({ name: "audit", url: `${receiverUrl}/audit`, events: ["job_run.completed"], secret: own }),
    );
    const out = expectOk(await cli("subscriptions", "apply", "audit.json"));
    expect(out).toBe(`created subscription audit → ${receiverUrl}/audit (job_run.completed)\n`);
    expect(out).not.toContain(own);
  });

  it("lists subscriptions newest first, without secrets", async () => {
    const out = expectOk(await cli("subscriptions", "list"));
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+URL\s+EVENTS$/);
    expect(lines[1]).toMatch(new RegExp(`^audit\\s+${receiverUrl}/audit\\s+job_run\\.completed$`));
    expect(lines[2]).toMatch(new RegExp(`^alerts\\s+${receiverUrl}/alerts\\s+run\\.succeeded$`));
    expect(lines).toHaveLength(3);
    const json = expectOk(await cli("subscriptions", "list", "--json"));
    expect(json).not.toContain(secret);
    expect(JSON.parse(json).items.map((s: Json) => s.name)).toEqual(["audit", "alerts"]);
  });

  it("delivers events signed with the secret it showed, and lists and redelivers them", async () => {
    const runId = (await api("/api/runs", "POST", { workflow: "quick", parameters: { label: "notify" } })).body.runId;
    expect(runId).toMatch(/^run_/);
    await waitForRunEnd(runId);
    const forRun = () => received.filter((r) => r.path === "/alerts" && r.event.data?.runId === runId);
    const [first] = await pollUntil("the run.succeeded delivery", async () => (forRun().length ? forRun() : null));
    if (!first) throw new Error("no delivery");
    expect(first.event.type).toBe("run.succeeded");
    // The receiver verifies with the secret the CLI printed.
    expect(new Webhook(secret).verify(first.body, first.headers as Record<string, string>)).toEqual(first.event);

    const delivery = await pollUntil("the delivery to be recorded as succeeded", async () => {
      const items = (await api("/api/subscriptions/alerts/deliveries")).body.items as Json[];
      return items.find((d) => d.eventId === first.event.id && d.status === "succeeded");
    });
    const out = expectOk(await cli("subscriptions", "deliveries", "alerts"));
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^DELIVERY\s+EVENT\s+STATUS\s+ATTEMPTS\s+RESPONSE\s+CREATED$/);
    expect(out).toMatch(
      new RegExp(
        `^${delivery.deliveryId}\\s+run\\.succeeded\\s+succeeded\\s+1\\s+200\\s+\\d{4}-\\d\\d-\\d\\d \\S+Z$`,
        "m",
      ),
    );

    expect(expectOk(await cli("subscriptions", "redeliver", "alerts", delivery.deliveryId))).toBe(
      `redelivery of ${delivery.deliveryId} queued\n`,
    );
    // Sent again with the same event id, so the receiver can tell it is the same event.
    const again = await pollUntil("the redelivery", async () => (forRun().length >= 2 ? forRun() : null));
    expect(again.map((r) => r.event.id)).toEqual([first.event.id, first.event.id]);
    expectCleanError(await cli("subscriptions", "deliveries", "nope"), /not found/);
  });
});
