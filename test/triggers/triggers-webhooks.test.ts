// Inbound webhooks on the embedded stack: calls signed the Standard Webhooks way or GitHub's way start runs; bad,
// stale, unknown or oversized ones start nothing; a replayed delivery never starts a second run.
import { createHmac, randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Json, startStack, type TestStack } from "../support/stack.ts";

let s: TestStack;

const wf = {
  name: "on-push",
  parameters: { branch: { type: "string", required: true }, commits: { type: "number", default: 0 } },
  nodes: [{ id: "main", type: "command", command: "echo pushed" }],
};

/** Standard Webhooks headers made by the standardwebhooks package, as a sender using it would. */
function standard(secret: string, body: string, o: { id?: string; atMs?: number } = {}): Record<string, string> {
  const id = o.id ?? `msg_${randomUUID()}`;
  const at = new Date(Math.floor((o.atMs ?? Date.now()) / 1000) * 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(at.getTime() / 1000),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}

/** GitHub's headers: X-Hub-Signature-256 keyed with the secret as written, and a delivery id. */
const github = (secret: string, body: string, delivery: string = randomUUID()) => ({
  "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
  "x-github-delivery": delivery,
});

/** Calls a hook as an outside sender would: no bearer key, a raw JSON body, and headers of its choosing. */
const callHook = (url: string, body: string, headers: Record<string, string> = {}) =>
  s.api(url, { method: "POST", raw: body, key: null, headers });

async function runCount(): Promise<number> {
  return (await s.json("/api/runs?workflow=on-push&limit=100")).items.length;
}

beforeAll(async () => {
  s = await startStack();
  await s.putWorkflow(wf);
});
afterAll(async () => {
  await s?.stop();
});

describe("inbound webhooks", () => {
  let hook: Json;

  it("creates a webhook whose secret is shown once and never listed", async () => {
    hook = await s.json("/api/workflows/on-push/webhooks", { method: "POST", body: {}, expect: 201 });
    expect(hook.webhookId).toMatch(/^wh_[0-9A-Z]{26}$/);
    expect(hook.url).toBe(`/hooks/${hook.webhookId}`);
    expect(hook.secret).toMatch(/^whsec_/);
    const list = await s.json("/api/workflows/on-push/webhooks");
    expect(list.items).toHaveLength(1);
    expect(list.items[0].webhookId).toBe(hook.webhookId);
    expect(list.items[0].secret).toBeUndefined();
    expect(JSON.stringify(list)).not.toContain(hook.secret);
    expect((await s.api("/api/workflows/missing/webhooks", { method: "POST", body: {} })).status).toBe(404);
    const viewer = await s.createKey("viewer", "vera");
    expect((await s.api("/api/workflows/on-push/webhooks", { method: "POST", body: {}, key: viewer })).status).toBe(
      403,
    );
  });

  it("starts a run from a call signed the Standard Webhooks way, with the JSON body as parameters", async () => {
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const body = JSON.stringify({ branch: "main", commits: 3 });
    const res = await callHook(hook.url, body, standard(hook.secret, body));
    expect(res.status, res.text).toBe(202);
    expect(res.body.runId).toMatch(/^run_/);
    const run = await s.waitForRun(res.body.runId);
    expect(run.status).toBe("succeeded");
    expect(run.trigger.type).toBe("webhook");
    expect(run.trigger.webhookId).toBe(hook.webhookId);
    expect(run.parameters).toEqual({ branch: "main", commits: 3 });
  });

  it("starts a run from a call signed GitHub's way (X-Hub-Signature-256, X-GitHub-Delivery)", async () => {
    const body = JSON.stringify({ branch: "gh-main" });
    const res = await callHook(hook.url, body, github(hook.secret, body));
    expect(res.status, res.text).toBe(202);
    expect((await s.waitForRun(res.body.runId)).parameters).toEqual({ branch: "gh-main", commits: 0 });
  });

  it("answers 401 and starts nothing on a bad, stale or missing signature", async () => {
    const before = await runCount();
    const body = JSON.stringify({ branch: "evil" });
    const other = `whsec_${Buffer.from("not-the-secret-at-all").toString("base64")}`;
    const refused: Array<[string, Record<string, string>]> = [
      ["no signature", {}],
      ["standard, another secret", standard(other, body)],
      ["standard, another body", standard(hook.secret, JSON.stringify({ branch: "main" }))],
      ["standard, 6 minutes old", standard(hook.secret, body, { atMs: Date.now() - 360_000 })],
      ["standard, 6 minutes ahead", standard(hook.secret, body, { atMs: Date.now() + 360_000 })],
      ["standard, id changed", { ...standard(hook.secret, body), "webhook-id": "msg_other" }],
      ["standard, no id", { ...standard(hook.secret, body), "webhook-id": "" }],
      ["github, another secret", github(other, body)],
      ["github, malformed", { ...github(hook.secret, body), "x-hub-signature-256": "sha256=zz" }],
      ["github, no delivery id", { "x-hub-signature-256": github(hook.secret, body)["x-hub-signature-256"] }],
      // The pre-1.1 header is no longer a signature the service takes: it carries no delivery id to guard replays.
      ["old header", { "x-stepwise-signature": github(hook.secret, body)["x-hub-signature-256"] }],
    ];
    for (const [what, headers] of refused) {
      const res = await callHook(hook.url, body, headers);
      expect(res.status, what).toBe(401);
      expect(res.body.error.code, what).toBe("unauthorized");
    }
    // A bearer key is no substitute for the signature.
    expect((await s.api(hook.url, { method: "POST", raw: body })).status).toBe(401);
    expect(await runCount()).toBe(before);
  });

  it("answers a replayed delivery with the first run and starts no second one, either way it was signed", async () => {
    const before = await runCount();
    const body = JSON.stringify({ branch: "release" });
    const headers = standard(hook.secret, body, { id: "msg_release_1" });
    const first = await callHook(hook.url, body, headers);
    expect(first.status).toBe(202);
    const again = await callHook(hook.url, body, headers);
    expect(again.status).toBe(202);
    expect(again.body.runId).toBe(first.body.runId);
    // Signed afresh (a sender's retry) under the same id: still the same delivery.
    const retried = await callHook(hook.url, body, standard(hook.secret, body, { id: "msg_release_1" }));
    expect(retried.body.runId).toBe(first.body.runId);
    const ghHeaders = github(hook.secret, body);
    const gh = await callHook(hook.url, body, ghHeaders);
    const ghAgain = await callHook(hook.url, body, ghHeaders);
    expect([gh.status, ghAgain.status]).toEqual([202, 202]);
    expect(ghAgain.body.runId).toBe(gh.body.runId);
    expect(gh.body.runId).not.toBe(first.body.runId);
    expect(await runCount()).toBe(before + 2);
    await s.waitForRun(first.body.runId);
    await s.waitForRun(gh.body.runId);
  });

  it("starts one run for 10 concurrent replays of one delivery", async () => {
    const before = await runCount();
    const body = JSON.stringify({ branch: "burst" });
    const headers = standard(hook.secret, body);
    const answers = await Promise.all(Array.from({ length: 10 }, () => callHook(hook.url, body, headers)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((a) => a.body.runId)).size).toBe(1);
    expect(await runCount()).toBe(before + 1);
    await s.waitForRun(answers[0]?.body.runId);
  });

  it("validates the parameters like any trigger, and refuses unknown hooks and large bodies", async () => {
    const before = await runCount();
    const missing = JSON.stringify({ commits: 1 });
    const invalid = await callHook(hook.url, missing, standard(hook.secret, missing));
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details[0].path).toBe("parameters.branch");
    const unknown = await callHook("/hooks/wh_01JAAAAAAAAAAAAAAAAAAAAAAA", missing, standard(hook.secret, missing));
    expect(unknown.status).toBe(404);
    const big = JSON.stringify({ branch: "x".repeat(257 * 1024) });
    const tooLarge = await callHook(hook.url, big, standard(hook.secret, big));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe("payload_too_large");
    expect(await runCount()).toBe(before);
  });

  it("keeps other orgs out, and a revoked hook answers 404", async () => {
    const otherAdmin = await s.createOrg("other-org");
    expect((await s.api("/api/workflows/on-push/webhooks", { key: otherAdmin })).status).toBe(404);
    expect(
      (await s.api(`/api/workflows/on-push/webhooks/${hook.webhookId}`, { method: "DELETE", key: otherAdmin })).status,
    ).toBe(404);
    expect((await s.api(`/api/workflows/on-push/webhooks/${hook.webhookId}`, { method: "DELETE" })).status).toBe(204);
    expect((await s.json("/api/workflows/on-push/webhooks")).items).toHaveLength(0);
    const body = JSON.stringify({ branch: "main" });
    expect((await callHook(hook.url, body, standard(hook.secret, body))).status).toBe(404);
  });
});
