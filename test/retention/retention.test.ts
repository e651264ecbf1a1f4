import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepAllOrgs } from "../../shared/retention/retention.ts";
import { startStack, type TestStack } from "../support/stack.ts";

let stack: TestStack;
const DAY = 86_400_000;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const reporter = {
  name: "reporter",
  nodes: [
    { id: "write", type: "command", command: "echo writing; echo rows=3 > out/report.txt" },
    { id: "read", type: "command", needs: ["write"], inputs: ["report.txt"], command: "cat in/report.txt" },
  ],
};

describe("retention", () => {
  it("validates settings and is admin-only", async () => {
    const bad = await stack.api("/api/settings/retention", { method: "PUT", body: { days: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    const operator = await stack.createKey("operator");
    const denied = await stack.api("/api/settings/retention", { method: "PUT", body: { days: 30 }, key: operator });
    expect(denied.status).toBe(403);
    expect((await stack.json("/api/settings/retention")).days).toBeNull();
  });

  it("deletes logs and file contents of old runs, keeping records, hashes and the audit chain", async () => {
    const { run } = await stack.runToEnd(reporter);
    await stack.waitForSealed(run.runId);
    const files = (await stack.json(`/api/runs/${run.runId}/files`)).items;
    expect(files).toHaveLength(1);
    expect((await stack.api(`/api/runs/${run.runId}/logs`)).text).toContain("write | writing");
    const audit = (await stack.json(`/api/runs/${run.runId}/audit`)).items;

    const set = await stack.json("/api/settings/retention", {
      method: "PUT",
      body: { days: 30, keepEvidence: true },
      expect: 200,
    });
    expect(set).toMatchObject({ days: 30, keepEvidence: true, updatedBy: "platform" });
    // Nothing is old yet.
    let [result] = await sweepAllOrgs(stack.deps);
    expect(result?.runsPurged).toBe(0);
    expect((await stack.api(`/api/runs/${run.runId}/files/report.txt`)).status).toBe(200);

    // 31 days later.
    [result] = await sweepAllOrgs(stack.deps, Date.now() + 31 * DAY);
    expect(result).toMatchObject({ orgId: "default", runsPurged: 1, recordsDeleted: 0 });
    // The file; the two short logs live in the task records, which keepEvidence keeps, and are no longer served.
    expect(result?.objectsDeleted).toBe(1);
    expect((await stack.api(`/api/runs/${run.runId}/logs`)).text).toBe("");
    expect((await stack.api(`/api/runs/${run.runId}/files/report.txt`)).status).toBe(404);
    const kept = await stack.json(`/api/runs/${run.runId}`);
    expect(kept.status).toBe("succeeded");
    expect(kept.root).toBe(run.root ?? kept.root);
    const task = await stack.json(`/api/runs/${run.runId}/tasks/write`);
    expect(task.outputs[0]).toMatchObject({ path: "report.txt", sha256: files[0].sha256 });
    expect((await stack.json(`/api/runs/${run.runId}/audit`)).items).toEqual(audit);
    // A run is swept once.
    [result] = await sweepAllOrgs(stack.deps, Date.now() + 32 * DAY);
    expect(result?.runsPurged).toBe(0);
  });

  it("without keepEvidence deletes the run's records too", async () => {
    const { run } = await stack.runToEnd({ ...reporter, name: "reporter-two" });
    await stack.waitForSealed(run.runId);
    await stack.json("/api/settings/retention", { method: "PUT", body: { days: 1, keepEvidence: false }, expect: 200 });
    const [result] = await sweepAllOrgs(stack.deps, Date.now() + 2 * DAY);
    expect(result?.runsPurged).toBe(1);
    expect(result?.recordsDeleted).toBeGreaterThan(5);
    expect((await stack.api(`/api/runs/${run.runId}`)).status).toBe(404);
  });
});
