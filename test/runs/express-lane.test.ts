// The Express lane embedded: runs that never wait on the state machine execute in the Express twin of the run
// machine (same ASL, same handlers), the lane is on the run, and a dead Express execution ends the run failed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStateMachine } from "../../shared/adapters/embedded/local-step-functions.ts";
import { CostMeter } from "../../shared/ports/metrics.ts";
import { EXPRESS_DEAD_AFTER_MS, sweepDeadExpressRuns } from "../../shared/runs/express-sweep.ts";
import { ShiftedClock } from "../support/clock.ts";
import { commandWorkflow, startStack, type TestStack } from "../support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const diamond = {
  name: "lane-diamond",
  nodes: [
    { id: "start", type: "command", command: "echo start" },
    ...[1, 2, 3].map((i) => ({ id: `fan-${i}`, type: "command", needs: ["start"], command: `echo ${i}` })),
    { id: "join", type: "command", needs: ["fan-1", "fan-2", "fan-3"], command: "echo join" },
  ],
};

describe("the Express lane", () => {
  it("runs a diamond of commands as an Express execution and says so on the run", async () => {
    await stack.putWorkflow(diamond);
    const runId = await stack.trigger("lane-diamond");
    // The execution is in the Express machine while the run goes.
    expect(stack.embedded.orchestrator.express.isRunning(runId)).toBe(true);
    const run = await stack.waitForRun(runId);
    expect(run).toMatchObject({ status: "succeeded", lane: "express" });
  });

  it("restarts a failed Express run in the Express lane, its finished node carried over", async () => {
    await stack.putWorkflow({
      name: "lane-restart",
      nodes: [
        { id: "prep", type: "command", command: "echo prep" },
        { id: "flaky", type: "command", needs: ["prep"], command: "exit 3" },
      ],
    });
    const failed = await stack.waitForRun(await stack.trigger("lane-restart"));
    expect(failed).toMatchObject({ status: "failed", lane: "express" });
    const accepted = await stack.json(`/api/runs/${failed.runId}/restart`, { method: "POST", body: {}, expect: 202 });
    expect(accepted).toMatchObject({ rerun: ["flaky"], reused: ["prep"] });
    const again = await stack.waitForRun(accepted.runId);
    expect(again).toMatchObject({ status: "failed", lane: "express", restartOf: failed.runId });
  });

  it("keeps a run with an approval on Standard, and the run view differs only by lane", async () => {
    await stack.putWorkflow({
      name: "lane-approval",
      nodes: [
        { id: "a", type: "command", command: "true" },
        { id: "ok", type: "approval", needs: ["a"], allowSelfApproval: true },
      ],
    });
    const runId = await stack.trigger("lane-approval");
    expect(stack.embedded.orchestrator.express.isRunning(runId)).toBe(false);
    await stack.waitForRun(runId, ["awaiting_approval"]);
    await stack.json(`/api/runs/${runId}/approvals/ok`, { body: { decision: "approve" } });
    const run = await stack.waitForRun(runId);
    expect(run).toMatchObject({ status: "succeeded", lane: "standard" });
    const express = await stack.json(`/api/runs?workflow=lane-diamond`);
    const other = await stack.json(`/api/runs/${express.items[0].runId}`);
    expect(Object.keys(other).sort()).toEqual(Object.keys(run).sort());
  });

  it("ends a run failed when its Express execution dies under it", async () => {
    await stack.putWorkflow(commandWorkflow("lane-dies", "sleep 30"));
    const runId = await stack.trigger("lane-dies");
    await stack.waitForRun(runId, ["running"]);
    // The interpreter aborting the execution is what Express's limit or a crashed host does to it.
    stack.embedded.orchestrator.express.stop(runId);
    const run = await stack.waitForRun(runId, ["failed"]);
    expect(run.lane).toBe("express");
    expect(run.error).toMatchObject({ code: "execution_ended" });
    const tasks = await stack.json(`/api/runs/${runId}/tasks`);
    expect(tasks.items[0].status).not.toBe("running");
  });

  it("sweeps an Express run no execution can still be driving (the cloud gets no status event for it)", async () => {
    await stack.putWorkflow(commandWorkflow("lane-swept", "sleep 30"));
    const runId = await stack.trigger("lane-swept");
    await stack.waitForRun(runId, ["running"]);
    const clock = new ShiftedClock();
    const deps = { ...stack.deps, clock };
    expect((await sweepDeadExpressRuns(deps)).reconciled).toEqual([]);
    clock.advance(EXPRESS_DEAD_AFTER_MS);
    expect((await sweepDeadExpressRuns(deps)).reconciled).toEqual([runId]);
    const run = await stack.waitForRun(runId, ["failed"]);
    expect(run.error).toMatchObject({ code: "execution_ended" });
    expect(run.error.message).toContain("TIMED_OUT");
  });

  it("stops a local Express execution at its time limit and reports it TIMED_OUT", async () => {
    const ended: string[] = [];
    const machine = new LocalStateMachine(
      {
        definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 5, End: true } } },
        tasks: {},
        waitForToken: {},
        onAbnormalEnd: async (d) => ended.push(`${d.name} ${d.status}`),
      },
      new CostMeter(),
    ).withTimeLimit(100);
    machine.start("x", {});
    await stack.waitFor("the time limit", async () => ended.length > 0, 3000);
    expect(ended).toEqual(["x TIMED_OUT"]);
    expect(machine.isRunning("x")).toBe(false);
  });
});
