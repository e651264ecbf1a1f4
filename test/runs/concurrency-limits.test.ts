// Concurrency limits through the API: with {"limit": 1} runs start one at a time in trigger order, the others wait
// `queued` with queuedReason concurrency_limit; a queued run can be cancelled; a human wait holds its slot and a
// cancel frees it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Json, startStack, type TestStack } from "../support/stack.ts";
import { timeline } from "../support/timeline.ts";

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe("concurrency limit", () => {
  it("runs three triggers one at a time, in trigger order", async () => {
    await stack.putWorkflow({
      name: "one-at-a-time",
      concurrency: { limit: 1 },
      nodes: [{ id: "work", type: "command", command: "sleep 1; echo done" }],
    });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await stack.trigger("one-at-a-time"));
    const second = await stack.json(`/api/runs/${ids[1]}`);
    expect(second).toMatchObject({ status: "queued", queuedReason: "concurrency_limit" });
    const listed = await stack.json("/api/runs?workflow=one-at-a-time&status=queued");
    expect(listed.items.map((r: Json) => r.runId).sort()).toEqual([ids[1], ids[2]].sort());
    expect(listed.items.every((r: Json) => r.queuedReason === "concurrency_limit")).toBe(true);

    const runs = [];
    for (const id of ids) runs.push(await stack.waitForRun(id));
    console.log(`concurrency timeline (limit 1):\n${timeline(runs)}`);
    expect(runs.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    for (let i = 1; i < 3; i++) {
      // Each starts only after the one before it ended: never two past queued at once.
      expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].completedAt));
      expect(runs[i].queuedReason).toBeNull();
    }
    // The queued runs' audit trails say why they waited.
    const audit = (await stack.json(`/api/runs/${ids[2]}/audit`)).items;
    expect(audit.map((e: Json) => e.type).slice(0, 3)).toEqual(["run.created", "run.queued", "run.transition"]);
  });

  it("holds the slot through a human wait; a queued run can be cancelled; a cancel frees the slot", async () => {
    await stack.putWorkflow({
      name: "gated-approval",
      concurrency: { limit: 1 },
      nodes: [{ id: "ok", type: "approval", approvers: { count: 1 } }],
    });
    const holder = await stack.trigger("gated-approval");
    await stack.waitForRun(holder, ["awaiting_approval"]);
    const queued = await stack.trigger("gated-approval");
    const next = await stack.trigger("gated-approval");
    expect((await stack.json(`/api/runs/${queued}`)).queuedReason).toBe("concurrency_limit");

    await stack.json(`/api/runs/${queued}/cancel`, { method: "POST", body: { reason: "not needed" }, expect: 202 });
    const cancelled = await stack.waitForRun(queued);
    expect(cancelled).toMatchObject({
      status: "cancelled",
      startedAt: null,
      cancelReason: "not needed",
      cancelledBy: "platform",
    });
    expect((await stack.json(`/api/runs/${next}`)).status).toBe("queued");

    await stack.json(`/api/runs/${holder}/cancel`, { method: "POST", body: {}, expect: 202 });
    // The freed slot goes to the next run in the queue (the cancelled one is skipped).
    await stack.waitForRun(next, ["awaiting_approval"]);
    await stack.json(`/api/runs/${next}/cancel`, { method: "POST", body: {}, expect: 202 });
  });

  it("rejects a bad limit with 400 naming the field", async () => {
    const res = await stack.api("/api/workflows/bad-limit", {
      method: "PUT",
      body: { name: "bad-limit", concurrency: { limit: 0 }, nodes: [{ id: "a", type: "wait", seconds: 1 }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe("concurrency.limit");
  });
});
