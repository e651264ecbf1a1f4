import { Duration } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Construct } from "constructs";
import type { StepwiseFunction } from "../lambda-function.ts";
import { baseEnvironment, type EngineContext, serviceFunction } from "./engine-context.ts";

/** The daily retention sweep: deletes logs and file contents past each org's retention; it may only delete. */
export class Retention extends Construct {
  readonly retentionSweep: StepwiseFunction;

  constructor(scope: Construct, id: string, ctx: EngineContext) {
    super(scope, id);
    this.retentionSweep = serviceFunction(this, "RetentionSweep", ctx, {
      entry: "functions/retention-sweep.ts",
      description: "Stepwise: deletes logs and file contents past each org's retention (daily)",
      memorySize: 256,
      timeout: Duration.minutes(15),
      environment: baseEnvironment(ctx),
    });
    ctx.storage.grantPurge(this.retentionSweep);
    new Rule(this, "RetentionSweepDaily", {
      description: "Stepwise: the daily retention sweep",
      schedule: Schedule.rate(Duration.days(1)),
      targets: [new LambdaFunction(this.retentionSweep.fn, { retryAttempts: 2 })],
    });
  }
}
