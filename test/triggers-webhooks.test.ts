// Inbound webhooks on the embedded stack: signed calls start runs; bad, unknown or oversized ones start nothing.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Json, startStack, type TestStack } from "./support/stack.ts";

let s: TestStack;

const wf = {
  name: "on-push",
  parameters: { branch: { type: "string", required: true }, commits: { type: "number", default: 0 } },
  nodes: [{ id: "main", type: "command", command: "echo pushed" }],
};

const sign = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

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

  it("starts a run from a correctly signed call, with the JSON body as parameters", async () => {
    const body = JSON.stringify({ branch: "main", commits: 3 });
    const res = await callHook(hook.url, body, { "x-stepwise-signature": sign(hook.secret, body) });
    expect(res.status, res.text).toBe(202);
    expect(res.body.runId).toMatch(/^run_/);
    const run = await s.waitForRun(res.body.runId);
    expect(run.status).toBe("succeeded");
    expect(run.trigger.type).toBe("webhook");
    expect(run.trigger.webhookId).toBe(hook.webhookId);
    expect(run.parameters).toEqual({ branch: "main", commits: 3 });
  });

  it("answers 401 and starts nothing on a bad or missing signature", async () => {
    const before = await runCount();
    const body = JSON.stringify({ branch: "evil" });
    const wrongSecret = await callHook(hook.url, body, { "x-stepwise-signature": sign("not-the-secret", body) });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error.code).toBe("unauthorized");
    const otherBody = await callHook(hook.url, body, {
      "x-stepwise-signature": sign(hook.secret, JSON.stringify({ branch: "main" })),
    });
    expect(otherBody.status).toBe(401);
    expect((await callHook(hook.url, body)).status).toBe(401);
    expect((await callHook(hook.url, body, { "x-stepwise-signature": "sha256=zz" })).status).toBe(401);
    // A bearer key is no substitute for the signature.
    expect((await s.api(hook.url, { method: "POST", raw: body })).status).toBe(401);
    expect(await runCount()).toBe(before);
  });

  it("returns the same run for a replayed Idempotency-Key", async () => {
    const before = await runCount();
    const body = JSON.stringify({ branch: "release" });
    const headers = { "x-stepwise-signature": sign(hook.secret, body), "idempotency-key": "delivery-42" };
    const first = await callHook(hook.url, body, headers);
    const again = await callHook(hook.url, body, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.runId).toBe(first.body.runId);
    expect(await runCount()).toBe(before + 1);
    await s.waitForRun(first.body.runId);
  });

  it("validates the parameters like any trigger, and refuses unknown hooks and large bodies", async () => {
    const before = await runCount();
    const missing = JSON.stringify({ commits: 1 });
    const invalid = await callHook(hook.url, missing, { "x-stepwise-signature": sign(hook.secret, missing) });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details[0].path).toBe("parameters.branch");
    const unknown = await callHook("/hooks/wh_01JAAAAAAAAAAAAAAAAAAAAAAA", missing, {
      "x-stepwise-signature": sign(hook.secret, missing),
    });
    expect(unknown.status).toBe(404);
    const big = JSON.stringify({ branch: "x".repeat(257 * 1024) });
    const tooLarge = await callHook(hook.url, big, { "x-stepwise-signature": sign(hook.secret, big) });
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
    expect((await callHook(hook.url, body, { "x-stepwise-signature": sign(hook.secret, body) })).status).toBe(404);
  });
});
