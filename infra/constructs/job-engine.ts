import { Duration } from "aws-cdk-lib";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { buildJobRunStateMachine } from "../../shared/jobs/job-run-state-machine.ts";
import type { StepwiseFunction } from "../lambda-function.ts";
import {
  acknowledgeExecutions,
  type EngineContext,
  grantStatusChanges,
  reconcileDeadExecutions,
  SMALL,
  serviceFunction,
  standardMachine,
  statusEnvironment,
} from "./engine-context.ts";
import { allow } from "./storage.ts";

/**
 * The job engine: one execution of the job machine per job run (named after the jobRunId, input {orgId, jobRunId}),
 * its functions (RunNext, RecordJobFailure) and the reconciler of executions that died outside them.
 */
export class JobEngine extends Construct {
  readonly stateMachine: StateMachine;
  readonly runNext: StepwiseFunction;
  readonly recordJobFailure: StepwiseFunction;
  readonly reconcileJob: StepwiseFunction;

  constructor(scope: Construct, id: string, ctx: EngineContext) {
    super(scope, id);
    this.runNext = serviceFunction(this, "RunNext", ctx, {
      entry: "functions/run-next.ts",
      description: "Stepwise: starts (or waits for) a job run's next workflow run",
      ...SMALL,
      environment: statusEnvironment(ctx),
    });
    this.recordJobFailure = serviceFunction(this, "RecordJobFailure", ctx, {
      entry: "functions/record-job-failure.ts",
      description: "Stepwise: records a handler failure on the job run",
      ...SMALL,
      environment: statusEnvironment(ctx),
    });
    const reconcileJobDeadLetters = new Queue(this, "ReconcileJobDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.reconcileJob = serviceFunction(this, "ReconcileJob", ctx, {
      entry: "functions/reconcile-job.ts",
      description: "Stepwise: reconciles a job run whose execution died outside the handlers",
      ...SMALL,
      environment: statusEnvironment(ctx),
      deadLetterQueue: reconcileJobDeadLetters,
    });
    // RunNext may end a workflow run (cancelled with its job run); the failure handlers only end the job run.
    grantStatusChanges(ctx, this.runNext, { endsRuns: true });
    grantStatusChanges(ctx, this.recordJobFailure, { endsRuns: false });
    grantStatusChanges(ctx, this.reconcileJob, { endsRuns: false });
    // RunNext cancels a workflow run it started when the job run was cancelled meanwhile.
    allow(this.runNext.role, ["states:StopExecution"], [ctx.machines.run.executions]);
    acknowledgeExecutions(this.runNext, ctx.machines.run, "run");

    this.stateMachine = standardMachine(
      this,
      "JobRunStateMachine",
      ctx,
      ctx.machines.job,
      buildJobRunStateMachine({
        runNext: this.runNext.fn.functionArn,
        recordFailure: this.recordJobFailure.fn.functionArn,
      }),
      [this.runNext, this.recordJobFailure],
    );
    // ContinueAsNew: a long-waiting job run hands itself to a fresh execution of this machine before the history cap.
    allow(this.stateMachine.role, ["states:StartExecution"], [ctx.machines.job.arn]);
    reconcileDeadExecutions(
      this,
      "ReconcileJobRule",
      "job-run",
      this.stateMachine,
      this.reconcileJob,
      reconcileJobDeadLetters,
    );
  }

  /** The engine's functions, by name. */
  get functions() {
    return { runNext: this.runNext, recordJobFailure: this.recordJobFailure, reconcileJob: this.reconcileJob };
  }
}
