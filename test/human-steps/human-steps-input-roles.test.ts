// Who may answer an input step: operator, approver or admin by default (whoever runs the workflow often holds the
// 2FA code); a node's `roles` narrows that. Approvals stay with approvers.roles (default approver, admin).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type TestStack } from "../support/stack.ts";

let stack: TestStack;
const keys: Record<string, string> = {};

beforeAll(async () => {
  stack = await startStack();
  for (const role of ["operator", "approver", "viewer", "admin"] as const) keys[role] = await stack.createKey(role);
  await stack.putWorkflow({
    name: "otp-anyone",
    nodes: [{ id: "otp", type: "input", fields: { code: { type: "string" } } }],
  });
  await stack.putWorkflow({
    name: "otp-approvers-only",
    nodes: [{ id: "otp", type: "input", roles: ["approver"], fields: { code: { type: "string" } } }],
  });
  await stack.putWorkflow({ name: "gate", nodes: [{ id: "ok", type: "approval" }] });
});

afterAll(async () => {
  await stack?.stop();
});

/** Starts a run of `workflow` and waits until it asks its person. */
async function waiting(workflow: string, status = "awaiting_input"): Promise<string> {
  const runId = await stack.trigger(workflow);
  await stack.waitForRun(runId, [status]);
  return runId;
}

const answer = (runId: string, role: string) =>
  stack.api(`/api/runs/${runId}/inputs/otp`, { method: "POST", body: { values: { code: "123456" } }, key: keys[role] });

describe("who may answer an input step", () => {
  it("takes an answer from an operator, an approver or an admin, and refuses a viewer", async () => {
    for (const role of ["operator", "approver", "admin"]) {
      const runId = await waiting("otp-anyone");
      const res = await answer(runId, role);
      expect(res.status, role).toBe(200);
      expect((await stack.waitForRun(runId)).status).toBe("succeeded");
    }
    const runId = await waiting("otp-anyone");
    const viewer = await answer(runId, "viewer");
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.code).toBe("forbidden");
    const inbox = await stack.json("/api/approvals?status=pending", { key: keys.operator });
    const item = inbox.items.find((i: { runId: string }) => i.runId === runId);
    expect(item.whoMayAnswer).toEqual(["operator", "approver", "admin"]);
  });

  it("narrows to the node's roles: an operator gets 403 and the run keeps waiting", async () => {
    const runId = await waiting("otp-approvers-only");
    const operator = await answer(runId, "operator");
    expect(operator.status).toBe(403);
    expect(operator.body.error).toMatchObject({ code: "forbidden" });
    expect(operator.body.error.message).toContain("allowed: approver");
    expect((await stack.json(`/api/runs/${runId}`)).status).toBe("awaiting_input");
    const inbox = await stack.json("/api/approvals?status=pending", { key: keys.approver });
    expect(inbox.items.find((i: { runId: string }) => i.runId === runId).whoMayAnswer).toEqual(["approver"]);
    expect((await answer(runId, "approver")).status).toBe(200);
    expect((await stack.waitForRun(runId)).status).toBe("succeeded");
  });

  it("refuses roles that could never answer with 400 naming the node", async () => {
    for (const roles of [["viewer"], [], ["root"]]) {
      const res = await stack.api("/api/workflows/bad-roles", {
        method: "PUT",
        body: { name: "bad-roles", nodes: [{ id: "otp", type: "input", roles, fields: {} }] },
      });
      expect(res.status, JSON.stringify(roles)).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.text).toContain("otp");
    }
  });

  it("keeps approvals with approvers: an operator may answer inputs but not approve", async () => {
    const runId = await waiting("gate", "awaiting_approval");
    const res = await stack.api(`/api/runs/${runId}/approvals/ok`, {
      method: "POST",
      body: { decision: "approve" },
      key: keys.operator,
    });
    expect(res.status).toBe(403);
    const ok = await stack.api(`/api/runs/${runId}/approvals/ok`, {
      method: "POST",
      body: { decision: "approve" },
      key: keys.approver,
    });
    expect(ok.status).toBe(200);
  });
});
