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
 *                     └▶ ContinueAsNew ─▶ Continued  (the execution is old: the run goes on in a new one)
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
  continueAsNew: "ContinueAsNew",
  continued: "Continued",
} as const;

/** The error a rejected approval fails the AwaitHuman task with (SendTaskFailure). */
export const HUMAN_REJECTED = "ApprovalRejected";

/** Seconds one Advance call may take: Lambda's 15-minute ceiling. */
export const ADVANCE_TIMEOUT_SECONDS = 900;

/** Seconds one Advance call may spend starting nodes in the cloud: two minutes before Lambda stops it, to record them. */
export const ADVANCE_BUDGET_SECONDS = ADVANCE_TIMEOUT_SECONDS - 120;

/**
 * Lambda's own failures to invoke a function (service errors, throttling: new accounts start at 10 concurrent
 * executions), which every Lambda task retries; AWS's advice for every lambda:invoke state.
 */
export const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  "Lambda.ClientExecutionTimeoutException",
];

/** Retry of every lambda:invoke task: Lambda service hiccups and a lost race on the audit chain. */
export const LAMBDA_TASK_RETRY = [
  {
    ErrorEquals: [...LAMBDA_SERVICE_ERRORS, StaleStateError.NAME],
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
        // The execution's name and start: Advance continues the run in a new execution before this one is a year old.
        Parameters: {
          FunctionName: fn.advance,
          Payload: { ...ids, execution: { "name.$": "$$.Execution.Name", "startTime.$": "$$.Execution.StartTime" } },
        },
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
          { Variable: "$.next", StringEquals: "continue", Next: STATE.continueAsNew },
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
        // A throttle while parking a run must not fail it: the handler only stores the token (idempotent), and a
        // retry parks the run again with a fresh one.
        Retry: LAMBDA_TASK_RETRY,
        Catch: [
          // A timeout or a rejection (SendTaskFailure from the decision) goes back to Advance, which applies
          // onTimeout or ends the run failed with who rejected and why, from the step's record.
          { ErrorEquals: ["States.Timeout", HUMAN_REJECTED], ResultPath: null, Next: STATE.advance },
          { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: STATE.recordFailure },
        ],
        Next: STATE.advance,
      },
      // A new execution of this machine for the same run (named <runId>-c<n>); this one then ends. Advance has
      // recorded run.execution_continued. A name already taken means a retry already started it.
      [STATE.continueAsNew]: {
        Type: "Task",
        Resource: "arn:aws:states:::states:startExecution",
        Parameters: {
          "StateMachineArn.$": "$$.StateMachine.Id",
          "Name.$": "$.continueAs",
          Input: { ...ids, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id" },
        },
        ResultPath: null,
        Retry: [
          {
            ErrorEquals: ["StepFunctions.SdkClientException", "StepFunctions.AWSStepFunctionsException"],
            IntervalSeconds: 1,
            MaxAttempts: 3,
            BackoffRate: 2,
          },
        ],
        Catch: [
          { ErrorEquals: ["StepFunctions.ExecutionAlreadyExistsException"], ResultPath: null, Next: STATE.continued },
          { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: STATE.recordFailure },
        ],
        Next: STATE.continued,
      },
      [STATE.continued]: { Type: "Succeed" },
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
  next: "advance" | "wait" | "human" | "failed" | "done" | "continue";
  /** With next = continue: the name of the execution the run goes on in (shared/engine/continue-as-new.ts). */
  continueAs?: string;
  /** The audit head this call left the run at. */
  seq: number;
  waitSeconds?: number;
  /** With next = human: how long the AwaitHuman task may wait (see TimeoutSecondsPath). */
  Payload?: { humanTimeoutSeconds: number };
}

/** The error the Express twin fails a run with if one ever reaches a human wait (the lane rule keeps them out). */
export const EXPRESS_CANNOT_WAIT = "ExpressCannotWait";

/**
 * The Express twin of a run machine definition: the same states, except that AwaitHuman, a task-token wait that
 * Express executions cannot hold (Step Functions rejects .waitForTaskToken in an Express machine), becomes a Pass
 * that hands RecordFailure an error naming why; Express-lane runs have no human step, so none reaches it.
 */
export function toExpressRunStateMachine(definition: Record<string, unknown>): Record<string, unknown> {
  const states = { ...(definition.States as Record<string, unknown>) };
  if (!(STATE.awaitHuman in states)) return definition;
  states[STATE.awaitHuman] = {
    Type: "Pass",
    Result: { Error: EXPRESS_CANNOT_WAIT, Cause: "an Express execution cannot wait on a task token" },
    ResultPath: "$.error",
    Next: STATE.recordFailure,
  };
  return { ...definition, Comment: `${String(definition.Comment ?? "")} (Express lane)`.trim(), States: states };
}
