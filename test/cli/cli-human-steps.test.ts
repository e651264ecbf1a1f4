// Human steps through the real `stepwise` binary against the embedded server: the approvals inbox, approve,
// reject and input, asserting what a person at the terminal sees.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import { type CliResult, expectCleanError, runCli } from "../support/cli.ts";
import { pollUntil } from "../support/poll.ts";
import type { Json } from "../support/stack.ts";

const PLATFORM_KEY = "test-platform-key-0123456789";
const SECRET = "918273";

let stack: EmbeddedStack;
let dataDir: string;
let workDir: string;
const keys: Record<string, string> = {};

/** Runs `node bin/stepwise.js …` as the person holding `key`, stdin not a terminal (as in a script or CI). */
const cli = (key: string, ...args: string[]): Promise<CliResult> =>
  runCli({ url: stack.url, apiKey: key, cwd: workDir }, ...args);

async function api(method: string, path: string, body?: unknown, key = PLATFORM_KEY): Promise<Json> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

const waitForStatus = (runId: string, statuses: string[]) =>
  pollUntil(`run ${runId} to be ${statuses.join("|")}`, async () => {
    const run = await api("GET", `/api/runs/${runId}`);
    return statuses.includes(run.status) ? run : null;
  });

/** `2026-11-21T10:00:00.123456Z` as the CLI's tables print it. */
const shown = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;

/** Starts a run with the CLI as the operator (so the approvers are not the ones who started it). */
async function start(workflow: string): Promise<string> {
  const res = await cli(keys.operator as string, "run", workflow, "--json");
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout).runId as string;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-cli-human-data-"));
  workDir = await mkdtemp(join(tmpdir(), "stepwise-cli-human-work-"));
  stack = await startEmbedded({ dataDir, port: 0, apiKey: PLATFORM_KEY, examplesDir: null });
  for (const [name, role] of [
    ["operator", "operator"],
    ["alice", "approver"],
    ["bob", "approver"],
  ] as const) {
    keys[name] = (await api("POST", "/api/keys", { name, role })).key;
  }
  await api("PUT", "/api/workflows/cli-gate", {
    name: "cli-gate",
    nodes: [
      { id: "build", type: "command", command: "echo built" },
      {
        id: "sign-off",
        type: "approval",
        needs: ["build"],
        approvers: { count: 1 },
        timeoutSeconds: 3600,
        onTimeout: "reject",
      },
      { id: "ship", type: "command", needs: ["sign-off"], command: "echo shipped" },
    ],
  });
  await api("PUT", "/api/workflows/cli-otp", {
    name: "cli-otp",
    nodes: [
      {
        id: "otp",
        type: "input",
        fields: {
          ticket: { type: "string", pattern: "[A-Z]+-[0-9]+" },
          code: { type: "string", secret: true },
          env: { type: "enum", values: ["staging", "prod"] },
        },
      },
      { id: "use-it", type: "command", needs: ["otp"], command: 'echo "deploying with $STEPWISE_SECRET_OTP_CODE"' },
    ],
  });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

describe("human steps with the stepwise CLI", () => {
  let gate = "";
  let otp = "";

  it("lists what waits: the ask, who may answer, since when and until when", async () => {
    gate = await start("cli-gate");
    otp = await start("cli-otp");
    await waitForStatus(gate, ["awaiting_approval"]);
    await waitForStatus(otp, ["awaiting_input"]);
    const inbox = (await api("GET", "/api/approvals?status=pending", undefined, keys.alice)).items as Json[];
    const gateItem = inbox.find((i) => i.runId === gate);
    const otpItem = inbox.find((i) => i.runId === otp);

    const res = await cli(keys.alice as string, "approvals", "list");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RUN\s+NODE\s+WORKFLOW\s+ASKS\s+WHO MAY ANSWER\s+WAITING SINCE\s+WAITING\s+TIMES OUT$/);
    expect(lines).toHaveLength(3);
    const gateLine = lines.find((l) => l.startsWith(gate)) as string;
    const otpLine = lines.find((l) => l.startsWith(otp)) as string;
    expect(gateLine.split(/\s{2,}/)).toEqual([
      gate,
      "sign-off",
      "cli-gate",
      "approval 0/1",
      "approver, admin",
      shown(gateItem.since),
      expect.stringMatching(/^\d+(\.\d+)?(ms|s|m)/),
      shown(gateItem.timeoutAt),
    ]);
    // An hour after it started waiting, as the node says.
    expect(Date.parse(gateItem.timeoutAt) - Date.parse(gateItem.since)).toBe(3600_000);
    expect(otpLine.split(/\s{2,}/)).toEqual([
      otp,
      "otp",
      "cli-otp",
      "input ticket, code (secret), env",
      "operator, approver, admin",
      shown(otpItem.since),
      expect.stringMatching(/^\d+(\.\d+)?(ms|s|m)/),
      "-",
    ]);

    const json = await cli(keys.alice as string, "approvals", "list", "--json");
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout);
    expect(page.items.map((i: Json) => i.runId).sort()).toEqual([gate, otp].sort());
    expect(page.nextCursor).toBeNull();
  });

  it("approves a step with a comment; the run goes on and the audit keeps who and why", async () => {
    const res = await cli(keys.alice as string, "runs", "approve", gate, "sign-off", "-m", "ship it");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`approved sign-off of ${gate}\n`);
    expect((await waitForStatus(gate, ["succeeded", "failed"])).status).toBe("succeeded");
    const audit = (await api("GET", `/api/runs/${gate}/audit`)).items as Json[];
    expect(audit.find((e) => e.type === "approval.decision")).toMatchObject({
      actor: "alice",
      detail: { decision: "approve", comment: "ship it", nodeId: "sign-off" },
    });

    const again = await cli(keys.bob as string, "runs", "approve", gate, "sign-off");
    expectCleanError(again, /^error: 'sign-off' is not awaiting approval \(it is succeeded\)$/);
  });

  it("rejects only with a reason; the run fails naming who rejected and why", async () => {
    const run = await start("cli-gate");
    await waitForStatus(run, ["awaiting_approval"]);
    const noReason = await cli(keys.bob as string, "runs", "reject", run, "sign-off");
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toContain("--message");
    expect((await api("GET", `/api/runs/${run}`)).status).toBe("awaiting_approval");

    const res = await cli(keys.bob as string, "runs", "reject", run, "sign-off", "-m", "numbers are off");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`rejected sign-off of ${run}\n`);
    const failed = await waitForStatus(run, ["failed", "succeeded"]);
    expect(failed.status).toBe("failed");
    expect(failed.error.message).toBe("rejected by bob: numbers are off");

    const shownRun = await cli(keys.alice as string, "runs", "get", run);
    expect(shownRun.stdout).toMatch(/^error\s+node 'sign-off': rejected by bob: numbers are off$/m);
  });

  it("answers an input step: typed values, a secret that must be given, a bad value named", async () => {
    // Not a terminal: a secret field cannot be prompted for, so it must be given.
    const noSecret = await cli(keys.alice as string, "runs", "input", otp, "otp", "ticket=OPS-1", "env=prod");
    expectCleanError(noSecret, /^error: field 'code' is secret and was not given$/);

    const badEnum = await cli(
      keys.alice as string,
      "runs",
      "input",
      otp,
      "otp",
      "ticket=OPS-1",
      `code=${SECRET}`,
      "env=moon",
    );
    expectCleanError(badEnum, /^error: field 'env' must be one of staging, prod, got 'moon'$/);

    // The server's own check (the pattern) comes back naming the field; the run keeps waiting.
    const badTicket = await cli(
      keys.alice as string,
      "runs",
      "input",
      otp,
      "otp",
      "ticket=nope",
      `code=${SECRET}`,
      "env=prod",
    );
    expectCleanError(badTicket, /ticket/);
    expect(badTicket.stderr).not.toContain(SECRET);
    expect((await api("GET", `/api/runs/${otp}`)).status).toBe("awaiting_input");

    const ok = await cli(
      keys.alice as string,
      "runs",
      "input",
      otp,
      "otp",
      "ticket=OPS-42",
      `code=${SECRET}`,
      "env=prod",
    );
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`submitted otp of ${otp}\n`);
    const run = await waitForStatus(otp, ["succeeded", "failed"]);
    expect(run.status).toBe("succeeded");
    expect(run.context["otp.ticket"]).toMatchObject({ type: "string", value: "OPS-42" });
    expect(run.context["otp.env"]).toMatchObject({ type: "string", value: "prod" });
    expect(run.context["otp.code"]).toBeUndefined();

    const logs = await cli(keys.alice as string, "runs", "logs", otp);
    expect(logs.stdout).toContain("deploying with ********");
    expect(logs.stdout).not.toContain(SECRET);

    const late = await cli(
      keys.alice as string,
      "runs",
      "input",
      otp,
      "otp",
      "ticket=OPS-43",
      `code=${SECRET}`,
      "env=prod",
    );
    expectCleanError(late, /^error: 'otp' is not awaiting input \(it is succeeded\)$/);
  });

  it("shows an empty inbox once nothing waits", async () => {
    const res = await cli(keys.alice as string, "approvals", "list");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("nothing is waiting\n");
  });
});
