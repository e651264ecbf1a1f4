// Authentication, roles, orgs and keys through the HTTP API of the embedded stack.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandWorkflow, type Json, MICRO_ISO, startStack, type TestStack } from "../support/stack.ts";

let s: TestStack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await s?.stop();
});

/** Asserts the contract's error JSON: exactly {error: {code, message, details?}}. */
function expectError(body: Json, code: string): void {
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.code).toBe(code);
  for (const k of Object.keys(body.error)) expect(["code", "message", "details"]).toContain(k);
}

describe("health", () => {
  it("answers without a key", async () => {
    const res = await s.api("/api/health", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual({ status: "ok", engineVersion: "0.1.0" });
    expect(res.body.engineVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("authentication", () => {
  it("401 without a key, with an unknown key and with a malformed header", async () => {
    for (const path of ["/api/runs", "/api/workflows", "/api/whoami", "/api/keys"]) {
      const res = await s.api(path, { key: null });
      expect(res.status, path).toBe(401);
      expectError(res.body, "unauthorized");
    }
    const unknown = await s.api("/api/runs", { key: "sw_not-a-real-key" });
    expect(unknown.status).toBe(401);
    expectError(unknown.body, "unauthorized");
    const basic = await s.api("/api/runs", { key: null, headers: { authorization: "Basic dXNlcjpwYXNz" } });
    expect(basic.status).toBe(401);
    expectError(basic.body, "unauthorized");
  });

  it("checks the key before the body: a keyless POST with a bad body is 401, not 400", async () => {
    const res = await s.api("/api/workflows/x/trigger", { method: "POST", key: null, raw: "{not json" });
    expect(res.status).toBe(401);
  });

  it("the platform key is admin of org default", async () => {
    const me = await s.json("/api/whoami");
    expect(me).toMatchObject({ orgId: "default", role: "admin", userId: "platform", platform: true });
  });
});

describe("keys", () => {
  it("creates a key shown once, lists keys without secrets or hashes, and a deleted key is 401", async () => {
    const created = await s.api("/api/keys", { method: "POST", body: { name: "alice", role: "approver" } });
    expect(created.status).toBe(201);
    expect(created.body.keyId).toMatch(/^key_[0-9A-Z]{26}$/);
    expect(typeof created.body.key).toBe("string");
    expect(created.body.key.length).toBeGreaterThanOrEqual(20);
    const alice = created.body.key as string;

    const me = await s.json("/api/whoami", { key: alice });
    expect(me).toMatchObject({ orgId: "default", role: "approver", userId: "alice", keyId: created.body.keyId });

    const list = await s.api("/api/keys");
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    const entry = list.body.items.find((k: Json) => k.keyId === created.body.keyId);
    expect(entry).toMatchObject({ name: "alice", role: "approver", orgId: "default" });
    expect(entry.createdAt).toMatch(MICRO_ISO);
    expect(list.text).not.toContain(alice);
    for (const k of list.body.items) {
      expect(k).not.toHaveProperty("key");
      expect(k).not.toHaveProperty("keyHash");
    }
    expect(list.text).not.toMatch(/sha256:/);

    const del = await s.api(`/api/keys/${created.body.keyId}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    const after = await s.api("/api/whoami", { key: alice });
    expect(after.status).toBe(401);
    expectError(after.body, "unauthorized");
    const again = await s.api(`/api/keys/${created.body.keyId}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expectError(again.body, "not_found");
  });

  it("pages the key list newest first and refuses a bad limit", async () => {
    for (const name of ["page-1", "page-2", "page-3"])
      expect((await s.api("/api/keys", { method: "POST", body: { name, role: "viewer" } })).status).toBe(201);
    const first = await s.json("/api/keys?limit=2");
    expect(first.items.map((k: Json) => k.name)).toEqual(["page-3", "page-2"]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const next = await s.json(`/api/keys?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`);
    expect(next.items[0].name).toBe("page-1");
    const bad = await s.api("/api/keys?limit=abc");
    expect(bad.status).toBe(400);
    expectError(bad.body, "validation_failed");
  });

  it("rejects a bad role or missing name with 400 naming the field, and unknown fields", async () => {
    const badRole = await s.api("/api/keys", { method: "POST", body: { name: "bob", role: "root" } });
    expect(badRole.status).toBe(400);
    expectError(badRole.body, "validation_failed");
    expect(badRole.body.error.details.some((d: Json) => d.path === "role")).toBe(true);
    const noName = await s.api("/api/keys", { method: "POST", body: { role: "viewer" } });
    expect(noName.status).toBe(400);
    expect(noName.body.error.message).toContain("name");
    const extra = await s.api("/api/keys", { method: "POST", body: { name: "x", role: "viewer", admin: true } });
    expect(extra.status).toBe(400);
    expectError(extra.body, "validation_failed");
    expect(extra.body.error.details).toEqual([{ path: "admin", message: "admin: unknown field" }]);
  });

  it("only admins manage keys: an operator gets 403", async () => {
    const op = await s.createKey("operator", "olga");
    const create = await s.api("/api/keys", { method: "POST", body: { name: "x", role: "viewer" }, key: op });
    expect(create.status).toBe(403);
    expectError(create.body, "forbidden");
    expect((await s.api("/api/keys", { key: op })).status).toBe(403);
  });
});

describe("roles", () => {
  it("a viewer reads but may not define, trigger, cancel or rerun (403)", async () => {
    await s.putWorkflow(commandWorkflow("roles-wf", "echo hi"));
    const viewer = await s.createKey("viewer", "vera");
    const approver = await s.createKey("approver", "april");
    expect((await s.api("/api/workflows/roles-wf", { key: viewer })).status).toBe(200);
    for (const key of [viewer, approver]) {
      const trig = await s.api("/api/workflows/roles-wf/trigger", { method: "POST", body: {}, key });
      expect(trig.status).toBe(403);
      expectError(trig.body, "forbidden");
      const put = await s.api("/api/workflows/roles-wf", {
        method: "PUT",
        body: commandWorkflow("roles-wf", "echo no"),
        key,
      });
      expect(put.status).toBe(403);
      const post = await s.api("/api/runs", { method: "POST", body: { workflow: "roles-wf" }, key });
      expect(post.status).toBe(403);
    }
    expect((await s.json("/api/runs", { key: viewer })).items).toEqual([]);

    const runId = await s.trigger("roles-wf");
    await s.waitForRun(runId);
    expect((await s.api(`/api/runs/${runId}/rerun`, { method: "POST", key: viewer })).status).toBe(403);
    expect((await s.api(`/api/runs/${runId}/cancel`, { method: "POST", key: viewer })).status).toBe(403);
    expect((await s.api(`/api/runs/${runId}`, { key: viewer })).status).toBe(200);
  });

  it("an operator defines and triggers, and is recorded as createdBy", async () => {
    const op = await s.createKey("operator", "oscar");
    await s.putWorkflow(commandWorkflow("op-wf", "echo hi"), op);
    const runId = await s.trigger("op-wf", {}, op);
    const run = await s.waitForRun(runId, ["succeeded"], { key: op });
    expect(run.createdBy).toBe("oscar");
    expect(run.trigger).toEqual({ type: "manual", userId: "oscar" });
  });
});

describe("orgs", () => {
  it("only the platform key creates orgs; an existing org is 409; a bad id is 400", async () => {
    const admin = await s.createKey("admin", "adam");
    const notPlatform = await s.api("/api/orgs", { method: "POST", body: { orgId: "sneaky" }, key: admin });
    expect(notPlatform.status).toBe(403);
    expectError(notPlatform.body, "forbidden");

    const created = await s.api("/api/orgs", { method: "POST", body: { orgId: "acme" } });
    expect(created.status).toBe(201);
    expect(created.body.orgId).toBe("acme");
    expect(typeof created.body.key).toBe("string");
    const me = await s.json("/api/whoami", { key: created.body.key });
    expect(me).toMatchObject({ orgId: "acme", role: "admin", platform: false });

    const dup = await s.api("/api/orgs", { method: "POST", body: { orgId: "acme" } });
    expect(dup.status).toBe(409);
    expectError(dup.body, "conflict");
    const dflt = await s.api("/api/orgs", { method: "POST", body: { orgId: "default" } });
    expect(dflt.status).toBe(409);

    const bad = await s.api("/api/orgs", { method: "POST", body: { orgId: "Not Valid!" } });
    expect(bad.status).toBe(400);
    expectError(bad.body, "validation_failed");
  });

  it("another org's runs, workflows and keys are invisible (404) and lists never cross orgs", async () => {
    await s.putWorkflow(commandWorkflow("private-wf", "echo secret"));
    const runId = await s.trigger("private-wf");
    await s.waitForRun(runId);
    const other = await s.createOrg("globex");

    for (const path of [
      `/api/runs/${runId}`,
      `/api/runs/${runId}/tasks`,
      `/api/runs/${runId}/tasks/main`,
      `/api/runs/${runId}/logs`,
      `/api/runs/${runId}/audit`,
      "/api/workflows/private-wf",
      "/api/workflows/private-wf/versions",
      "/api/workflows/private-wf/runs",
    ]) {
      const res = await s.api(path, { key: other });
      expect(res.status, path).toBe(404);
      expectError(res.body, "not_found");
    }
    for (const action of ["cancel", "rerun"]) {
      const res = await s.api(`/api/runs/${runId}/${action}`, { method: "POST", key: other });
      expect(res.status, action).toBe(404);
    }
    const trig = await s.api("/api/workflows/private-wf/trigger", { method: "POST", body: {}, key: other });
    expect(trig.status).toBe(404);
    expect((await s.json("/api/runs", { key: other })).items).toEqual([]);
    expect((await s.json("/api/workflows", { key: other })).items).toEqual([]);
    const keys = await s.json("/api/keys", { key: other });
    expect(keys.items.every((k: Json) => k.orgId === "globex")).toBe(true);

    // The other org may use the same workflow name independently.
    const mine = await s.putWorkflow(commandWorkflow("private-wf", "echo mine"), other);
    expect(mine.version).toBe(1);
    const otherRun = await s.trigger("private-wf", {}, other);
    const done = await s.waitForRun(otherRun, ["succeeded"], { key: other });
    expect(done.orgId).toBe("globex");
    expect((await s.api(`/api/runs/${otherRun}`)).status).toBe(404);
  });
});

describe("routing", () => {
  it("an unknown route or a malformed run id is 404 with the error JSON", async () => {
    const none = await s.api("/api/nothing-here");
    expect(none.status).toBe(404);
    expectError(none.body, "not_found");
    const badId = await s.api("/api/runs/not-a-run-id");
    expect(badId.status).toBe(404);
    expectError(badId.body, "not_found");
    const unknownRun = await s.api("/api/runs/run_01JZZZZZZZZZZZZZZZZZZZZZZZ");
    expect(unknownRun.status).toBe(404);
  });
});
