// Archiving workflows and jobs through the API: hidden from default lists, readable, not triggerable by name (by
// hash still works), schedules and webhooks stop firing and say so, PUT restores as a new version, runs untouched.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fireSchedule } from "../../shared/triggers/schedule-firing.ts";
import { type Json, startStack, type TestStack } from "../support/stack.ts";

let stack: TestStack;

const def = (echo = "hi") => ({
  name: "old-report",
  description: "the report nobody reads",
  nodes: [
    { id: "wait-a-bit", type: "wait", seconds: 1 },
    { id: "say", type: "command", needs: ["wait-a-bit"], command: `echo ${echo}` },
  ],
});

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const names = (list: Json) => list.items.map((i: Json) => i.name);

describe("archive", () => {
  it("archives a workflow: lists, reads, triggers, schedules and webhooks behave as the contract says", async () => {
    const v1 = await stack.putWorkflow(def());
    const done = await stack.trigger("old-report");
    await stack.waitForRun(done);
    const going = await stack.trigger("old-report"); // still running when archived
    const hook = await stack.json("/api/workflows/old-report/webhooks", { method: "POST", body: {}, expect: 201 });
    await stack.json("/api/schedules/nightly-old", {
      method: "PUT",
      body: { target: { workflow: "old-report" }, cron: "0 3 * * *", timezone: "UTC" },
      expect: 201,
    });
    const viewer = await stack.createKey("viewer", "vic");
    const forbidden = await stack.api("/api/workflows/old-report", { method: "DELETE", key: viewer });
    expect(forbidden.status).toBe(403);

    const del = await stack.api("/api/workflows/old-report", { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await stack.api("/api/workflows/nope", { method: "DELETE" })).status).toBe(404);

    expect(names(await stack.json("/api/workflows"))).not.toContain("old-report");
    const archived = await stack.json("/api/workflows?archived=true");
    expect(archived.items).toEqual([expect.objectContaining({ name: "old-report", archived: true })]);
    expect(await stack.json("/api/workflows/old-report")).toMatchObject({ archived: true, version: 1 });
    expect((await stack.json("/api/workflows/old-report/versions")).items).toHaveLength(1);
    expect((await stack.json(`/api/runs/${done}`)).status).toBe("succeeded");
    expect((await stack.json(`/api/runs/${done}/verify`)).valid).toBe(true);
    // The run going at the time is not touched.
    expect((await stack.waitForRun(going)).status).toBe("succeeded");

    const byName = await stack.api("/api/workflows/old-report/trigger", { method: "POST", body: {} });
    expect(byName.status).toBe(404);
    expect(byName.body.error.code).toBe("not_found");
    const byHash = await stack.json(`/api/workflows/by-hash/${v1.definitionHash}/trigger`, {
      method: "POST",
      body: {},
      expect: 202,
    });
    expect((await stack.waitForRun(byHash.runId)).status).toBe("succeeded");

    // The webhook answers 404 and starts nothing; its record says why.
    const body = JSON.stringify({});
    const call = await stack.api(hook.url, {
      method: "POST",
      raw: body,
      key: null,
      headers: {
        "x-hub-signature-256": `sha256=${createHmac("sha256", hook.secret).update(body).digest("hex")}`,
        "x-github-delivery": "archived-delivery-1",
      },
    });
    expect(call.status).toBe(404);
    const hooks = await stack.json("/api/workflows/old-report/webhooks");
    expect(hooks.items[0]).toMatchObject({ webhookId: hook.webhookId, workflowArchived: true });

    // The schedule does not fire, and says so.
    const outcome = await fireSchedule(stack.deps, {
      orgId: "default",
      name: "nightly-old",
      scheduledFor: new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString(),
    });
    expect(outcome).toBe("archived");
    const schedule = await stack.json("/api/schedules/nightly-old");
    expect(schedule.targetArchived).toBe(true);
    expect(schedule.lastError.message).toContain("archived");
    const listed = await stack.json("/api/schedules");
    expect(listed.items.find((s: Json) => s.name === "nightly-old").targetArchived).toBe(true);

    // PUT of the same definition brings it back, as a new version.
    const back = await stack.json("/api/workflows/old-report", { method: "PUT", body: def(), expect: 201 });
    expect(back.version).toBe(2);
    expect(await stack.json("/api/workflows/old-report")).toMatchObject({ archived: false, version: 2 });
    const active = await stack.json("/api/workflows");
    expect(active.items.find((w: Json) => w.name === "old-report")).toMatchObject({
      description: "the report nobody reads",
      archived: false,
    });
    expect((await stack.json("/api/workflows?archived=true")).items).toEqual([]);
    await stack.json("/api/workflows/old-report/trigger", { method: "POST", body: {}, expect: 202 });
    expect((await stack.json("/api/schedules/nightly-old")).targetArchived).toBe(false);
  });

  it("archives a job: hidden, readable, cannot be run; PUT restores it", async () => {
    await stack.putWorkflow({ name: "job-step", nodes: [{ id: "a", type: "command", command: "echo a" }] });
    const job = { workflowExecutionOrder: ["job-step"] };
    await stack.json("/api/jobs/weekly", { method: "PUT", body: job, expect: 201 });
    const jr = await stack.json("/api/jobs/weekly/runs", { method: "POST", body: {}, expect: 202 });
    expect((await stack.api("/api/jobs/weekly", { method: "DELETE" })).status).toBe(204);
    expect(names(await stack.json("/api/jobs"))).not.toContain("weekly");
    expect(names(await stack.json("/api/jobs?archived=true"))).toEqual(["weekly"]);
    expect(await stack.json("/api/jobs/weekly")).toMatchObject({ name: "weekly", archived: true });
    expect((await stack.json(`/api/job-runs/${jr.jobRunId}`)).job).toBe("weekly");
    const run = await stack.api("/api/jobs/weekly/runs", { method: "POST", body: {} });
    expect(run.status).toBe(404);
    await stack.json("/api/jobs/weekly", { method: "PUT", body: job, expect: 200 });
    expect(await stack.json("/api/jobs/weekly")).toMatchObject({ archived: false });
    await stack.json("/api/jobs/weekly/runs", { method: "POST", body: {}, expect: 202 });
  });
});
