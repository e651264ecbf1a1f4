import { Duration } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { StepwiseFunction } from "./lambda-function.ts";

export interface RunExpressLaneProps {
  /** Creates the Express state machine from its definition (the stack's machine helper, type EXPRESS). */
  machine: (definition: Record<string, unknown>) => StateMachine;
  /** The run machine's ASL in its Express form (toExpressRunStateMachine). */
  definition: Record<string, unknown>;
  /** The environment of a function that changes run statuses. */
  environment: Record<string, string>;
  logRetention: RetentionDays;
}

/**
 * The Express lane of the run engine: the Express twin of the run state machine and the sweep that stands in for
 * the status events Express executions never publish (functions/sweep-express-runs.ts, every 5 minutes). The
 * caller grants the sweep what the reconciler of Standard executions may do.
 */
export function addRunExpressLane(
  scope: Construct,
  props: RunExpressLaneProps,
): { stateMachine: StateMachine; sweep: StepwiseFunction } {
  const stateMachine = props.machine(props.definition);
  const sweep = new StepwiseFunction(scope, "SweepExpressRuns", {
    entry: "functions/sweep-express-runs.ts",
    description: "Stepwise: reconciles Express-lane runs whose execution died (Express publishes no status events)",
    memorySize: 256,
    timeout: Duration.minutes(5),
    logRetention: props.logRetention,
    environment: props.environment,
  });
  new Rule(scope, "SweepExpressRunsEvery5Minutes", {
    description: "Stepwise: the sweep of dead Express-lane runs",
    schedule: Schedule.rate(Duration.minutes(5)),
    targets: [new LambdaFunction(sweep.fn, { retryAttempts: 2 })],
  });
  return { stateMachine, sweep };
}
