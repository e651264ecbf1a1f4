import { Duration, Size } from "aws-cdk-lib";
import { Construct } from "constructs";
import { ENV } from "../../shared/config.ts";
import { StepwiseFunction } from "../lambda-function.ts";
import { acknowledge, nagString } from "../nag.ts";
import { baseEnvironment, type EngineContext } from "./engine-context.ts";
import { allow } from "./storage.ts";

/** Where exports are written (shared/evidence/export-jobs.ts `exportsPrefix`): the only keys the function may write. */
export const EXPORTS_OBJECTS = "orgs/*/runs/*/exports/*";

/**
 * The export worker: one function that builds a run's evidence bundle, invoked asynchronously by the API. It has
 * 15 minutes and streams the archive to S3 as a multipart upload; one stored object at a time is staged in /tmp
 * (its tar header needs its exact size), so /tmp is sized for the largest run file. It reads records and objects,
 * and writes objects under the exports prefix only.
 */
export class EvidenceExport extends Construct {
  readonly exportBundle: StepwiseFunction;

  constructor(scope: Construct, id: string, ctx: EngineContext) {
    super(scope, id);
    const { storage } = ctx;
    this.exportBundle = new StepwiseFunction(this, "ExportBundle", {
      entry: "functions/export-bundle.ts",
      description: "Stepwise: builds a run's evidence bundle into S3 (invoked asynchronously by the API)",
      memorySize: 1024,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.gibibytes(10),
      environment: baseEnvironment(ctx),
      logRetention: ctx.logRetention,
    });
    const role = this.exportBundle.role;
    storage.table.grantReadData(role);
    allow(role, ["s3:GetObject"], [storage.bucket.arnForObjects("*")]);
    // Without ListBucket a missing object reads as 403, not 404: the bundle leaves it out and verify reports it.
    allow(role, ["s3:ListBucket"], [storage.bucket.bucketArn]);
    allow(role, ["s3:PutObject", "s3:AbortMultipartUpload"], [storage.bucket.arnForObjects(EXPORTS_OBJECTS)]);
    acknowledge(this.exportBundle, {
      "AwsSolutions-L1":
        "nodejs22.x is the runtime the project targets and tests (the embedded mode runs the same code on Node 20); " +
        "nodejs24.x follows once the dependencies are verified on it.",
      "AwsSolutions-IAM5[Resource::*]":
        "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions; active tracing needs *.",
      [`AwsSolutions-IAM5[Resource::${nagString(this, `${storage.table.tableArn}/index/*`)}]`]:
        "Reads go through the table's GSIs; the grant covers this table's indexes and nothing else.",
      [`AwsSolutions-IAM5[Resource::${nagString(this, storage.bucket.arnForObjects("*"))}]`]:
        "The bundle holds every file and log of the run, whose keys are not known in advance: read only.",
      [`AwsSolutions-IAM5[Resource::${nagString(this, storage.bucket.arnForObjects(EXPORTS_OBJECTS))}]`]:
        "Exports are keyed by org, run and export id, created at run time; writes are limited to that prefix.",
    });
  }

  /** What the function that starts exports needs: the worker's name, and the right to invoke it (only it). */
  grantStart(f: StepwiseFunction): void {
    f.fn.addEnvironment(ENV.exportFunctionName, this.exportBundle.fn.functionName);
    allow(f.role, ["lambda:InvokeFunction"], [this.exportBundle.fn.functionArn]);
  }
}
