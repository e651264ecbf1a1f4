import { Duration, Size } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { IRole } from "aws-cdk-lib/aws-iam";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { ENV } from "../../shared/config.ts";
import {
  ADVANCE_TIMEOUT_SECONDS,
  buildRunStateMachine,
  toExpressRunStateMachine,
} from "../../shared/state-machine/run-state-machine.ts";
import type { StepwiseFunction } from "../lambda-function.ts";
import {
  acknowledgeExecutions,
  baseEnvironment,
  type EngineContext,
  grantStatusChanges,
  reconcileDeadExecutions,
  SMALL,
  STEER_ACTIONS,
  serviceFunction,
  standardMachine,
  statusEnvironment,
} from "./engine-context.ts";
import { allow } from "./storage.ts";

/** How often the Express sweep looks for Express runs whose execution died (they send no status events). */
export const EXPRESS_SWEEP_MINUTES = 5;

/**
 * The run engine: the run state machine and its Express twin (runs that never wait), their functions (Advance,
 * AwaitHuman, RecordFailure), the reconciler of Standard executions that died outside them and the sweep that does
 * the same for Express runs, and the wake-up of runs whose container task stopped. Task executors that need
 * infrastructure of their own (containers on ECS) attach to `advanceRun` and `containerStopped` from their own
 * construct: their roles, their environment (`fn.addEnvironment`).
 */
export class RunEngine extends Construct {
  readonly stateMachine: StateMachine;
  readonly expressStateMachine: StateMachine;
  readonly advanceRun: StepwiseFunction;
  readonly awaitHuman: StepwiseFunction;
  readonly recordFailure: StepwiseFunction;
  readonly reconcileExecution: StepwiseFunction;
  readonly sweepExpressRuns: StepwiseFunction;
  readonly containerStopped: StepwiseFunction;

  constructor(
    scope: Construct,
    id: string,
    private readonly ctx: EngineContext,
  ) {
    super(scope, id);
    const { storage } = ctx;
    this.advanceRun = serviceFunction(this, "AdvanceRun", ctx, {
      entry: "functions/advance-run.ts",
      description: "Stepwise: advances a run's DAG as far as it can (runs commands and scripts)",
      // Commands and node scripts run in child processes next to the handler: they get the memory and disk.
      memorySize: 1024,
      timeout: Duration.seconds(ADVANCE_TIMEOUT_SECONDS),
      ephemeralStorageSize: Size.gibibytes(2),
      environment: { ...statusEnvironment(ctx), [ENV.secretsKmsKeyId]: storage.secretsKey.keyArn },
    });
    // It stores the human wait's task token (and may resume the execution at once); it never changes a status.
    this.awaitHuman = serviceFunction(this, "AwaitHuman", ctx, {
      entry: "functions/await-human.ts",
      description: "Stepwise: parks a run on an approval or input with the task token",
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: baseEnvironment(ctx),
    });
    this.recordFailure = serviceFunction(this, "RecordFailure", ctx, {
      entry: "functions/record-failure.ts",
      description: "Stepwise: records a handler failure on the run",
      ...SMALL,
      environment: statusEnvironment(ctx),
    });
    const reconcileDeadLetters = new Queue(this, "ReconcileDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.reconcileExecution = serviceFunction(this, "ReconcileExecution", ctx, {
      entry: "functions/reconcile-execution.ts",
      description: "Stepwise: reconciles a run whose execution died outside the handlers",
      ...SMALL,
      environment: statusEnvironment(ctx),
      deadLetterQueue: reconcileDeadLetters,
    });

    this.sweepExpressRuns = serviceFunction(this, "SweepExpressRuns", ctx, {
      entry: "functions/sweep-express-runs.ts",
      description: "Stepwise: reconciles Express runs whose execution died (Express sends no status events)",
      ...SMALL,
      environment: statusEnvironment(ctx),
    });
    // Completes a container attempt from its task's STOPPED event: reads the stage-out result, writes run files
    // and logs, unseals the run's secrets to redact them, and wakes the run from its task-token wait.
    this.containerStopped = serviceFunction(this, "ContainerStopped", ctx, {
      entry: "functions/container-stopped.ts",
      description: "Stepwise: records a container attempt whose ECS task stopped and wakes its run",
      memorySize: 512,
      timeout: Duration.seconds(120),
      ephemeralStorageSize: Size.gibibytes(2),
      environment: { ...statusEnvironment(ctx), [ENV.secretsKmsKeyId]: storage.secretsKey.keyArn },
    });

    for (const f of [
      this.advanceRun,
      this.recordFailure,
      this.reconcileExecution,
      this.sweepExpressRuns,
      this.containerStopped,
    ]) {
      grantStatusChanges(ctx, f, { endsRuns: true });
    }
    // The engine writes logs and run files and unseals secrets for the nodes after an input.
    storage.grantObjects(this.advanceRun);
    storage.grantSeal(this.advanceRun.role);
    storage.grantObjects(this.containerStopped);
    storage.grantUnseal(this.containerStopped.role);
    allow(this.containerStopped.role, ["states:SendTaskSuccess"], [ctx.machines.run.arn, ctx.machines.run.executions]);
    acknowledgeExecutions(this.containerStopped, ctx.machines.run, "run");
    this.grantSteer(this.awaitHuman.role);
    this.grantSteer(this.reconcileExecution.role);
    for (const f of [this.awaitHuman, this.reconcileExecution]) acknowledgeExecutions(f, ctx.machines.run, "run");

    this.stateMachine = standardMachine(
      this,
      "RunStateMachine",
      ctx,
      ctx.machines.run,
      buildRunStateMachine({
        advance: this.advanceRun.fn.functionArn,
        awaitHuman: this.awaitHuman.fn.functionArn,
        recordFailure: this.recordFailure.fn.functionArn,
      }),
      [this.advanceRun, this.awaitHuman, this.recordFailure],
    );
    // Continue-as-new (shared/engine/continue-as-new.ts): the machine starts a new execution of itself.
    allow(this.stateMachine.role, ["states:StartExecution"], [ctx.machines.run.arn]);
    reconcileDeadExecutions(
      this,
      "ReconcileExecutionRule",
      "run",
      this.stateMachine,
      this.reconcileExecution,
      reconcileDeadLetters,
    );

    // The same ASL as an Express machine, without the task-token wait (Express-lane runs never reach it).
    this.expressStateMachine = standardMachine(
      this,
      "RunExpressStateMachine",
      ctx,
      ctx.machines.runExpress,
      toExpressRunStateMachine(
        buildRunStateMachine({
          advance: this.advanceRun.fn.functionArn,
          awaitHuman: this.awaitHuman.fn.functionArn,
          recordFailure: this.recordFailure.fn.functionArn,
        }),
      ),
      [this.advanceRun, this.recordFailure],
      { express: true },
    );
    // The same ContinueAsNew state, on itself (an Express execution ends within five minutes: never reached).
    allow(this.expressStateMachine.role, ["states:StartExecution"], [ctx.machines.runExpress.arn]);
    // An Express execution that dies publishes nothing: the sweep finds its run by age. No retry, the next sweep
    // comes soon enough.
    new Rule(this, "SweepExpressRunsSchedule", {
      description: "Stepwise: reconciles Express runs whose execution died",
      schedule: Schedule.rate(Duration.minutes(EXPRESS_SWEEP_MINUTES)),
      targets: [new LambdaFunction(this.sweepExpressRuns.fn, { retryAttempts: 0 })],
    });
  }

  /** The engine's functions, by name. */
  get functions() {
    return {
      advanceRun: this.advanceRun,
      awaitHuman: this.awaitHuman,
      recordFailure: this.recordFailure,
      reconcileExecution: this.reconcileExecution,
      sweepExpressRuns: this.sweepExpressRuns,
      containerStopped: this.containerStopped,
    };
  }

  /** Start, cancel, inspect and resume executions of the run machine. */
  grantSteer(role: IRole): void {
    allow(role, STEER_ACTIONS, [this.ctx.machines.run.arn, this.ctx.machines.run.executions]);
  }
}
