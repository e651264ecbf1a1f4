/**
 * The job-run lifecycle as one Standard state machine (JSONPath ASL), used unchanged by the CDK stack and
 * by the embedded interpreter. One execution per job run, named after the jobRunId; it carries ids only,
 * the job-run item in DynamoDB is the state.
 *
 *   RunNext ─▶ Route ─┬▶ RunNext     ("continue": the workflow run it waited for ended, go on)
 *      ▲              ├▶ JobRunFailed ("failed": a workflow run failed, the job run halted)
 *      │ timeout      └▶ Done         ("done": completed or cancelled)
 *      └────── (re-check: the workflow run is still going, store a fresh token)
 *   any handler error ─▶ RecordFailure ─▶ JobRunFailed
 *
 * RunNext is a lambda:invoke.waitForTaskToken task: its handler syncs the job run with its current workflow
 * run, then starts the next workflow run (or ends the job run), stores the token and re-reads the workflow
 * run; the run listener completes the token when that run reaches a terminal status. No polling: the
 * timeout only re-arms a long wait (a workflow run waiting for approval), and recovers a lost token.
 *
 * A job run of N workflows costs 2N + 3 transitions (RunNext and Route per workflow, then RunNext, Route and
 * Done or JobRunFailed): 9 for three workflows.
 */
export interface JobRunStateMachineFunctions {
  runNext: string;
  recordFailure: string;
}

export const JOB_STATE = {
  runNext: "RunNext",
  route: "Route",
  recordFailure: "RecordFailure",
  jobRunFailed: "JobRunFailed",
  done: "Done",
} as const;

import { LAMBDA_TASK_RETRY, recordFailureTask } from "../state-machine/run-state-machine.ts";

/** How long one wait for a workflow run lasts before RunNext re-checks it and re-arms (the local timers are bounded). */
export const JOB_WAIT_RECHECK_SECONDS = 3600;

/** What RunNext's token is completed with; Route branches on `next`. */
export interface JobStepResult {
  next: "continue" | "failed" | "done";
}

const ids = { "jobRunId.$": "$.jobRunId", "orgId.$": "$.orgId" };

/** Builds the job-run ASL definition for the given function names or ARNs. */
export function buildJobRunStateMachine(fn: JobRunStateMachineFunctions): Record<string, unknown> {
  return {
    Comment: "Stepwise job run: its workflows one after another",
    StartAt: JOB_STATE.runNext,
    States: {
      [JOB_STATE.runNext]: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters: { FunctionName: fn.runNext, Payload: { ...ids, "token.$": "$$.Task.Token" } },
        TimeoutSeconds: JOB_WAIT_RECHECK_SECONDS,
        ResultPath: "$.result",
        Retry: LAMBDA_TASK_RETRY,
        Catch: [
          { ErrorEquals: ["States.Timeout"], ResultPath: null, Next: JOB_STATE.runNext },
          { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: JOB_STATE.recordFailure },
        ],
        Next: JOB_STATE.route,
      },
      [JOB_STATE.route]: {
        Type: "Choice",
        Choices: [
          { Variable: "$.result.next", StringEquals: "continue", Next: JOB_STATE.runNext },
          { Variable: "$.result.next", StringEquals: "failed", Next: JOB_STATE.jobRunFailed },
        ],
        Default: JOB_STATE.done,
      },
      [JOB_STATE.recordFailure]: recordFailureTask(fn.recordFailure, ids, JOB_STATE.jobRunFailed),
      [JOB_STATE.jobRunFailed]: {
        Type: "Fail",
        Error: "JobRunFailed",
        Cause: "The job run failed; its record holds the reason.",
      },
      [JOB_STATE.done]: { Type: "Succeed" },
    },
  };
}
