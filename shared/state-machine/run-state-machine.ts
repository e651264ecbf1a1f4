import { StaleStateError } from "../errors.ts";

/**
 * The run lifecycle as one Standard state machine (JSONPath ASL), used unchanged by the CDK stack
 * and by the embedded interpreter. It carries ids only; the run record in DynamoDB is the state.
 *
 *   Advance ─▶ Route ─┬▶ Advance           (time budget spent, more to do)
 *                     ├▶ Wait ─▶ Advance    (only wait nodes left)
 *                     ├▶ AwaitHuman ─▶ Advance  (approval / input; task token; timeout or rejection → Advance)
 *                     ├▶ RunFailed          (the run ended failed)
 *                     └▶ Done               (succeeded, no_action or cancelled)
 *   any handler error ─▶ RecordFailure ─▶ RunFailed
 *
 * A run with no human steps or waits costs 3 transitions: Advance, Route, Done.
 */
export interface RunStateMachineFunctions {
  advance: string;
  awaitHuman: string;
  recordFailure: string;
}

export const STATE = {
  advance: "Advance",
  route: "Route",
  wait: "Wait",
  awaitHuman: "AwaitHuman",
  recordFailure: "RecordFailure",
  runFailed: "RunFailed",
  done: "Done",
} as const;

/** The error a rejected approval fails the AwaitHuman task with (SendTaskFailure). */
export const HUMAN_REJECTED = "ApprovalRejected";

/** Seconds one Advance call may take: Lambda's 15-minute ceiling. */
export const ADVANCE_TIMEOUT_SECONDS = 900;

/** Retry of every lambda:invoke task: Lambda service hiccups and a lost race on the audit chain. */
export const LAMBDA_TASK_RETRY = [
  {
    ErrorEquals: [
      "Lambda.ServiceException",
      "Lambda.AWSLambdaException",
      "Lambda.SdkClientException",
      "Lambda.TooManyRequestsException",
      StaleStateError.NAME,
    ],
    IntervalSeconds: 1,
    MaxAttempts: 3,
    BackoffRate: 2,
  },
];

const ids = { "runId.$": "$.runId", "orgId.$": "$.orgId" };

/** The Catch target of a machine: a lambda:invoke that records the caught error on the record, then `next`. */
export function recordFailureTask(functionName: string, idFields: Record<string, string>, next: string) {
  return {
    Type: "Task",
    Resource: "arn:aws:states:::lambda:invoke",
    Parameters: { FunctionName: functionName, Payload: { ...idFields, "error.$": "$.error" } },
    OutputPath: "$.Payload",
    Retry: LAMBDA_TASK_RETRY,
    TimeoutSeconds: 60,
    Next: next,
  };
}

/** Builds the ASL definition for the given function names or ARNs. */
export function buildRunStateMachine(fn: RunStateMachineFunctions): Record<string, unknown> {
  return {
    Comment: "Stepwise run lifecycle",
    StartAt: STATE.advance,
    States: {
      [STATE.advance]: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Parameters: { FunctionName: fn.advance, Payload: ids },
        OutputPath: "$.Payload",
        TimeoutSeconds: ADVANCE_TIMEOUT_SECONDS,
        Retry: LAMBDA_TASK_RETRY,
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: STATE.recordFailure }],
        Next: STATE.route,
      },
      [STATE.route]: {
        Type: "Choice",
        Choices: [
          { Variable: "$.next", StringEquals: "advance", Next: STATE.advance },
          { Variable: "$.next", StringEquals: "wait", Next: STATE.wait },
          { Variable: "$.next", StringEquals: "human", Next: STATE.awaitHuman },
          { Variable: "$.next", StringEquals: "failed", Next: STATE.runFailed },
        ],
        Default: STATE.done,
      },
      [STATE.wait]: { Type: "Wait", SecondsPath: "$.waitSeconds", Next: STATE.advance },
      [STATE.awaitHuman]: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters: {
          FunctionName: fn.awaitHuman,
          Payload: {
            ...ids,
            "seq.$": "$.seq",
            "token.$": "$$.Task.Token",
            "humanTimeoutSeconds.$": "$.Payload.humanTimeoutSeconds",
          },
        },
        // aws-local-stepfunctions reads TimeoutSecondsPath after Parameters, AWS before: this path means the
        // same value in both shapes (Advance returns it under Payload, and Parameters copies it there).
        TimeoutSecondsPath: "$.Payload.humanTimeoutSeconds",
        ResultPath: null,
        Catch: [
          // A timeout or a rejection (SendTaskFailure from the decision) goes back to Advance, which applies
          // onTimeout or ends the run failed with who rejected and why, from the step's record.
          { ErrorEquals: ["States.Timeout", HUMAN_REJECTED], ResultPath: null, Next: STATE.advance },
          { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: STATE.recordFailure },
        ],
        Next: STATE.advance,
      },
      [STATE.recordFailure]: recordFailureTask(fn.recordFailure, ids, STATE.runFailed),
      [STATE.runFailed]: { Type: "Fail", Error: "RunFailed", Cause: "The run failed; its record holds the reason." },
      [STATE.done]: { Type: "Succeed" },
    },
  };
}

/** What Advance returns to the state machine. */
export interface AdvanceOutput {
  runId: string;
  orgId: string;
  next: "advance" | "wait" | "human" | "failed" | "done";
  /** The audit head this call left the run at. */
  seq: number;
  waitSeconds?: number;
  /** With next = human: how long the AwaitHuman task may wait (see TimeoutSecondsPath). */
  Payload?: { humanTimeoutSeconds: number };
}
