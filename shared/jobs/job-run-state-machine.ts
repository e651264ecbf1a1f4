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
  rearm: "Rearm",
  firstRearm: "FirstRearm",
  countRearm: "CountRearm",
  continueAsNew: "ContinueAsNew",
  continued: "Continued",
  recordFailure: "RecordFailure",
  jobRunFailed: "JobRunFailed",
  done: "Done",
} as const;

import { LAMBDA_TASK_RETRY, recordFailureTask } from "../state-machine/run-state-machine.ts";

/** How long one wait for a workflow run lasts before RunNext re-checks it and re-arms (the local timers are bounded). */
export const JOB_WAIT_RECHECK_SECONDS = 3600;

/**
 * Re-checks one execution makes before it hands the job run to a fresh execution. Each costs about nine history
 * events, and a Standard execution is capped at 25,000 events and one year: 2,000 hourly re-checks (83 days) stay
 * well inside both, where re-arming forever reached the event cap after about 170 days.
 */
export const MAX_REARMS = 2000;

export interface JobRunStateMachineOptions {
  recheckSeconds?: number;
  maxRearms?: number;
}

/** What RunNext's token is completed with; Route branches on `next`. */
export interface JobStepResult {
  next: "continue" | "failed" | "done";
}

const ids = { "jobRunId.$": "$.jobRunId", "orgId.$": "$.orgId" };

/** Builds the job-run ASL definition for the given function names or ARNs. */
export function buildJobRunStateMachine(
  fn: JobRunStateMachineFunctions,
  opts: JobRunStateMachineOptions = {},
): Record<string, unknown> {
  const maxRearms = opts.maxRearms ?? MAX_REARMS;
  return {
    Comment: "Stepwise job run: its workflows one after another",
    StartAt: JOB_STATE.runNext,
    States: {
      [JOB_STATE.runNext]: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters: { FunctionName: fn.runNext, Payload: { ...ids, "token.$": "$$.Task.Token" } },
        TimeoutSeconds: opts.recheckSeconds ?? JOB_WAIT_RECHECK_SECONDS,
        ResultPath: "$.result",
        Retry: LAMBDA_TASK_RETRY,
        Catch: [
          { ErrorEquals: ["States.Timeout"], ResultPath: null, Next: JOB_STATE.rearm },
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
      [JOB_STATE.rearm]: {
        Type: "Choice",
        Choices: [
          // Not/IsPresent rather than IsPresent: false, which aws-local-stepfunctions 3.0 never matches.
          { Not: { Variable: "$.rearms", IsPresent: true }, Next: JOB_STATE.firstRearm },
          { Variable: "$.rearms", NumericGreaterThanEquals: maxRearms, Next: JOB_STATE.continueAsNew },
        ],
        Default: JOB_STATE.countRearm,
      },
      [JOB_STATE.firstRearm]: { Type: "Pass", Parameters: { ...ids, rearms: 1 }, Next: JOB_STATE.runNext },
      [JOB_STATE.countRearm]: {
        Type: "Pass",
        Parameters: { ...ids, "rearms.$": "States.MathAdd($.rearms, 1)" },
        Next: JOB_STATE.runNext,
      },
      // The record is the state: a fresh execution (same input, no count) picks the job run up where it is, and this
      // one ends. The new execution's name is unique; nothing addresses job executions by name after the start.
      [JOB_STATE.continueAsNew]: {
        Type: "Task",
        Resource: "arn:aws:states:::states:startExecution",
        Parameters: {
          "StateMachineArn.$": "$$.StateMachine.Id",
          "Name.$": "States.UUID()",
          Input: { ...ids, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id" },
        },
        Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2 }],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: JOB_STATE.recordFailure }],
        Next: JOB_STATE.continued,
      },
      [JOB_STATE.continued]: { Type: "Succeed" },
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
