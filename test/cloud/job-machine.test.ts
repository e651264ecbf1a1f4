// The synthesized job-run state machine on moto's interpreter: RunNext (a waitForTaskToken Lambda task answered by
// the real handler) starts the workflow run as an execution of the run machine, whose end completes the job's token.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pollUntil } from "../support/poll.ts";
import { PLATFORM_KEY } from "./support/cloud-stack.ts";
import { type Scenario, startScenario } from "./support/scenario.ts";
import { type Json, synthesizeStack } from "./support/synth.ts";
import { requireTool } from "./support/tools.ts";

const motoServer = requireTool("moto_server");
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });
let s: Scenario;

describe.skipIf(!motoServer)("the job-run state machine on moto", () => {
  beforeAll(async () => {
    const { stack, template } = synthesizeStack();
    // One execution of each machine: the job run and its one workflow run.
    s = await startScenario(motoServer as string, stack, template, { executeStateMachines: true });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("runs a job's workflow through both machines to completed", async () => {
    const wf = {
      name: "cloud-job-step",
      nodes: [{ id: "a", type: "command", command: 'echo "n=1" >> "$STEPWISE_OUTPUT"' }],
    };
    expect((await s.api("PUT", `/api/workflows/${wf.name}`, { key: PLATFORM_KEY, body: wf })).status).toBe(201);
    const job = await s.api("PUT", "/api/jobs/cloud-job", {
      key: PLATFORM_KEY,
      body: { workflowExecutionOrder: [wf.name] },
    });
    expect(job.status, job.text).toBeLessThan(300);
    const started = await s.api("POST", "/api/jobs/cloud-job/runs", { key: PLATFORM_KEY, body: {} });
    expect(started.status, started.text).toBe(202);
    const jobRunId = started.body.jobRunId as string;
    const done = await pollUntil(
      "the job run to end",
      async () => {
        const res = await s.api("GET", `/api/job-runs/${jobRunId}`, { key: PLATFORM_KEY });
        return ["completed", "failed", "cancelled"].includes(res.body.status) ? (res.body as Json) : null;
      },
      180_000,
    );
    expect(done.status, JSON.stringify(done)).toBe("completed");
    expect(done.workflowRuns).toEqual([expect.objectContaining({ workflow: wf.name, status: "succeeded" })]);
    const names = s.moto.invocations.map((i) => i.functionName);
    expect(names.filter((n) => n === s.cloud.functionNames.runNext).length).toBeGreaterThanOrEqual(2);
    expect(names).toContain(s.cloud.functionNames.advanceRun);
  });
});
