import { ArnFormat, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { ENV } from "../../shared/config.ts";
import { StepwiseFunction, type StepwiseFunctionProps } from "../lambda-function.ts";
import { acknowledge, nagString } from "../nag.ts";
import type { RunEvents } from "./run-events.ts";
import { allow, type Storage } from "./storage.ts";

/** A state machine's name and ARNs, fixed before the machine exists (see `machineIdentity`). */
export interface MachineIdentity {
  name: string;
  arn: string;
  /** Every execution of the machine. */
  executions: string;
}

/**
 * A machine's name (hence its ARN) fixed up front: the functions it invokes need the ARN in their environment and
 * policies, and a reference to the machine from them would make a dependency cycle.
 */
export function machineIdentity(scope: Construct, suffix: string): MachineIdentity {
  const stack = Stack.of(scope);
  const name = `${stack.stackName}-${suffix}`;
  const arn = (resource: string, resourceName: string) =>
    stack.formatArn({ service: "states", resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  return { name, arn: arn("stateMachine", name), executions: arn("execution", `${name}:*`) };
}

/**
 * What every construct with functions is given: the storage, the machines' identities (the run machine, its Express
 * twin for runs that never wait, the job machine), the event plumbing.
 */
export interface EngineContext {
  storage: Storage;
  machines: { run: MachineIdentity; runExpress: MachineIdentity; job: MachineIdentity };
  events: RunEvents;
  logRetention: RetentionDays;
}

/** Start, cancel, inspect and resume executions of the run machine. */
export const STEER_ACTIONS = [
  "states:StartExecution",
  "states:StopExecution",
  "states:DescribeExecution",
  "states:SendTaskSuccess",
  "states:SendTaskFailure",
];

/** Step Functions statuses of an execution that ended without its handlers recording why. */
const DIED_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"];

/**
 * A function of the service: every function builds the same adapters at start-up, so each gets the table, the
 * bucket and the run machine's ARN and may read and write records; what else it may do is granted by its construct.
 */
export function serviceFunction(
  scope: Construct,
  id: string,
  ctx: EngineContext,
  props: Omit<StepwiseFunctionProps, "logRetention">,
): StepwiseFunction {
  const f = new StepwiseFunction(scope, id, {
    ...props,
    logRetention: ctx.logRetention,
    environment: { ...baseEnvironment(ctx), ...props.environment },
  });
  ctx.storage.grantRecords(f.role);
  acknowledge(f, {
    "AwsSolutions-L1":
      "nodejs22.x is the runtime the project targets and tests (the embedded mode runs the same code on Node 20); " +
      "nodejs24.x follows once the dependencies are verified on it.",
    "AwsSolutions-IAM5[Resource::*]":
      "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions; active tracing needs *.",
    [`AwsSolutions-IAM5[Resource::${nagString(scope, `${ctx.storage.table.tableArn}/index/*`)}]`]:
      "Queries go through the table's three GSIs; the grant covers this table's indexes and nothing else.",
  });
  return f;
}

/** The settings of a small function (one record or event at a time). */
export const SMALL = { memorySize: 256, timeout: Duration.seconds(60) };

/** The variables every function gets. */
export function baseEnvironment(ctx: EngineContext): Record<string, string> {
  return { ...ctx.storage.environment, [ENV.runStateMachineArn]: ctx.machines.run.arn };
}

/**
 * The variables of a function that changes run or job-run statuses: every change is published, and may start a
 * schedule's buffered firing or a run queued for a concurrency slot, whose target is a workflow (the run machine of
 * the run's lane) or a job (job machine).
 */
export function statusEnvironment(ctx: EngineContext): Record<string, string> {
  return {
    ...baseEnvironment(ctx),
    [ENV.runExpressStateMachineArn]: ctx.machines.runExpress.arn,
    [ENV.jobStateMachineArn]: ctx.machines.job.arn,
    ...ctx.events.environment,
  };
}

/**
 * The grants of a function that changes statuses: publishing, and starting a run (in either lane's machine) or a job
 * run (a buffered schedule firing, a run given a concurrency slot). With `endsRuns`, it may also complete a job run's wait when a workflow run of that job run ends
 * (SendTaskSuccess with the job machine's RunNext token; tokens are checked against the machine they belong to).
 */
export function grantStatusChanges(ctx: EngineContext, f: StepwiseFunction, opts: { endsRuns: boolean }): void {
  ctx.events.grantPublish(f.role);
  const { run, runExpress, job } = ctx.machines;
  allow(f.role, ["states:StartExecution"], [run.arn, runExpress.arn, job.arn]);
  if (opts.endsRuns) allow(f.role, ["states:SendTaskSuccess"], [ctx.machines.job.arn]);
}

/** Acknowledges the grant on a machine's executions, which are named at run time. */
export function acknowledgeExecutions(f: StepwiseFunction, machine: MachineIdentity, what: string): void {
  acknowledge(f, {
    [`AwsSolutions-IAM5[Resource::${nagString(f, machine.executions)}]`]: `Executions are named after ${what} ids, created at run time; the grant covers executions of this machine only.`,
  });
}

/**
 * A Standard state machine with its fixed name, logs without execution data, X-Ray, and the right to invoke
 * exactly its own functions ($LATEST, unqualified ARNs). With `express`, the same as an Express machine: its log
 * group is where Step Functions keeps any record of an Express execution (it keeps no history of its own), so the
 * logging configuration is the same.
 */
export function standardMachine(
  scope: Construct,
  id: string,
  ctx: EngineContext,
  identity: MachineIdentity,
  definition: Record<string, unknown>,
  invokes: StepwiseFunction[],
  opts: { express?: boolean } = {},
): StateMachine {
  const logs = new LogGroup(scope, `${id}Logs`, {
    // The vendedlogs prefix keeps CloudWatch Logs' resource policy from growing with every log group.
    logGroupName: `/aws/vendedlogs/states/${identity.name}`,
    retention: ctx.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const sm = new StateMachine(scope, id, {
    stateMachineName: identity.name,
    stateMachineType: opts.express ? StateMachineType.EXPRESS : StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromString(Stack.of(scope).toJsonString(definition)),
    // Execution data carries only ids, but the log need not hold even those: the records are the reference.
    logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    tracingEnabled: true,
  });
  sm.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ["lambda:InvokeFunction"],
      resources: invokes.map((f) => f.fn.functionArn),
    }),
  );
  acknowledge(sm, {
    "AwsSolutions-IAM5[Resource::*]":
      "CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray tracing have no resource-level " +
      "permissions; Step Functions requires * for both.",
  });
  return sm;
}

/**
 * An execution that dies outside the handlers (timeout, abort, a failure RecordFailure never saw) would leave the
 * run or job run going forever: Step Functions reports it on the default bus and a rule hands it to the reconciler.
 * FAILED also covers executions that ended through their Fail state after the record was written; the reconciler
 * finds them terminal and leaves them alone, one cheap call that is safer than guessing from the error name.
 */
export function reconcileDeadExecutions(
  scope: Construct,
  id: string,
  what: string,
  sm: StateMachine,
  target: StepwiseFunction,
  deadLetters: Queue,
): Rule {
  return new Rule(scope, id, {
    description: `Stepwise: executions of the ${what} state machine that ended failed, timed out or aborted`,
    eventPattern: {
      source: ["aws.states"],
      detailType: ["Step Functions Execution Status Change"],
      detail: { stateMachineArn: [sm.stateMachineArn], status: DIED_STATUSES },
    },
    targets: [
      new LambdaFunction(target.fn, {
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
        deadLetterQueue: deadLetters,
      }),
    ],
  });
}
