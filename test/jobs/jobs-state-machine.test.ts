// The job-run ASL on its own: its shape, and its routes executed by the local interpreter with stand-in handlers.
import { describe, expect, it } from "vitest";
import { LocalStateMachine } from "../../shared/adapters/embedded/local-step-functions.ts";
import {
  buildJobRunStateMachine,
  JOB_STATE,
  JOB_WAIT_RECHECK_SECONDS,
  type JobStepResult,
} from "../../shared/jobs/job-run-state-machine.ts";
import { CostMeter } from "../../shared/ports/metrics.ts";

const definition = buildJobRunStateMachine({ runNext: "fn-run-next", recordFailure: "fn-record-failure" });
const states = (definition as any).States;

/** Runs one execution whose RunNext answers with `answers` in turn; resolves with how it ended. */
async function execute(answers: Array<JobStepResult["next"] | Error>) {
  const meter = new CostMeter();
  const calls: Array<{ jobRunId: string; orgId: string }> = [];
  const failures: unknown[] = [];
  let machine: LocalStateMachine;
  const ended = new Promise<{ status: string }>((resolve) => {
    machine = new LocalStateMachine(
      {
        definition,
        tasks: {
          [JOB_STATE.recordFailure]: async (payload) => {
            failures.push(payload);
            return payload;
          },
        },
        waitForToken: {
          [JOB_STATE.runNext]: async (payload) => {
            const p = payload as { jobRunId: string; orgId: string; token: string };
            calls.push({ jobRunId: p.jobRunId, orgId: p.orgId });
            const answer = answers[calls.length - 1];
            if (answer instanceof Error) throw answer;
            // Completed later, like the run listener does, not inside the handler.
            setTimeout(() => machine.sendTaskSuccess(p.token, { next: answer }), 5);
          },
        },
        onAbnormalEnd: async (detail) => resolve({ status: detail.status }),
      },
      meter,
    );
    machine.start("jr_TEST", { orgId: "acme", jobRunId: "jr_TEST" });
    const poll = setInterval(() => {
      if (!machine.isRunning("jr_TEST")) {
        clearInterval(poll);
        setTimeout(() => resolve({ status: "SUCCEEDED" }), 20);
      }
    }, 5);
  });
  const { status } = await ended;
  await new Promise((r) => setTimeout(r, 20));
  return { status, calls, failures, transitions: meter.transitions };
}

describe("job-run state machine definition", () => {
  it("waits for each workflow run on a task token, re-arming on timeout, and carries ids only", () => {
    expect(definition.StartAt).toBe(JOB_STATE.runNext);
    const runNext = states[JOB_STATE.runNext];
    expect(runNext.Resource).toBe("arn:aws:states:::lambda:invoke.waitForTaskToken");
    expect(runNext.Parameters).toEqual({
      FunctionName: "fn-run-next",
      Payload: { "jobRunId.$": "$.jobRunId", "orgId.$": "$.orgId", "token.$": "$$.Task.Token" },
    });
    expect(runNext.TimeoutSeconds).toBe(JOB_WAIT_RECHECK_SECONDS);
    // A timeout re-arms through a counter that hands the job run to a fresh execution before the history cap.
    expect(runNext.Catch[0]).toEqual({ ErrorEquals: ["States.Timeout"], ResultPath: null, Next: JOB_STATE.rearm });
    expect(states[JOB_STATE.countRearm].Next).toBe(JOB_STATE.runNext);
    expect(states[JOB_STATE.firstRearm].Next).toBe(JOB_STATE.runNext);
    expect(states[JOB_STATE.continueAsNew].Resource).toBe("arn:aws:states:::states:startExecution");
    expect(runNext.Catch[1].Next).toBe(JOB_STATE.recordFailure);
    expect(states[JOB_STATE.recordFailure].Parameters.FunctionName).toBe("fn-record-failure");
    expect(states[JOB_STATE.recordFailure].Next).toBe(JOB_STATE.jobRunFailed);
    expect(states[JOB_STATE.jobRunFailed].Type).toBe("Fail");
    expect(states[JOB_STATE.done].Type).toBe("Succeed");
    // JSONPath only: the local interpreter ignores JSONata and Assign.
    expect(JSON.stringify(definition)).not.toMatch(/JSONata|"Assign"/);
  });
});

describe("job-run state machine routes", () => {
  it("loops while RunNext says continue and succeeds on done: 2N+3 transitions", async () => {
    const res = await execute(["continue", "continue", "continue", "done"]);
    expect(res.status).toBe("SUCCEEDED");
    expect(res.calls).toEqual(Array(4).fill({ jobRunId: "jr_TEST", orgId: "acme" }));
    expect(res.transitions).toBe(9);
  });

  it("ends in JobRunFailed when a workflow run halted the job run", async () => {
    const res = await execute(["continue", "failed"]);
    expect(res.status).toBe("FAILED");
    expect(res.calls).toHaveLength(2);
    expect(res.failures).toEqual([]);
  });

  it("records a handler error through RecordFailure", async () => {
    const err = Object.assign(new Error("the table is gone"), { name: "InternalError" });
    const res = await execute([err]);
    expect(res.status).toBe("FAILED");
    expect(res.failures).toHaveLength(1);
    expect(res.failures[0]).toMatchObject({ jobRunId: "jr_TEST", orgId: "acme", error: { Error: "InternalError" } });
  });
});
