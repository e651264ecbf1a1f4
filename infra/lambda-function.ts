import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Duration, RemovalPolicy, type Size } from "aws-cdk-lib";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { LogLevel, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { OBSERVABILITY_ENV } from "../shared/config.ts";

/** The repository root, where package-lock.json and functions/ live. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

// esbuild's ESM output has no `require`; bundled CommonJS dependencies (and their `require("node:…")` calls) need one.
const ESM_REQUIRE_SHIM =
  'import { createRequire as __stepwiseCreateRequire } from "node:module"; ' +
  "const require = __stepwiseCreateRequire(import.meta.url);";

export interface StepwiseFunctionProps {
  /** Entry file relative to the repository root, e.g. `functions/api.ts`; it exports `handler`. */
  entry: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  ephemeralStorageSize?: Size;
  environment: Record<string, string>;
  logRetention: RetentionDays;
  /** Where asynchronous invocations that fail every retry are kept. */
  deadLetterQueue?: IQueue;
}

/**
 * A Lambda function bundled from a TypeScript entry by the local esbuild (never docker), with its own role and log
 * group. The role is ours, not the default one, so it carries no managed policy: it may write to its own log group
 * and nothing else until the stack grants exactly what the function needs.
 */
export class StepwiseFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** The entry file (relative to the repository root) whose `handler` export the function runs. */
  readonly entry: string;

  constructor(scope: Construct, id: string, props: StepwiseFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention,
      // Logs of a deleted function are not evidence (run records and S3 hold that); do not orphan them.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of ${props.entry}`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, "Function", {
      entry: join(PROJECT_ROOT, props.entry),
      handler: "handler",
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      // Stack traces in the logs point into the TypeScript sources (the bundles ship their source maps).
      // Logs, EMF metrics (the per-run cost counters) and traces are named alike in every function.
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        [OBSERVABILITY_ENV.serviceName]: "stepwise",
        [OBSERVABILITY_ENV.metricsNamespace]: "Stepwise",
        [OBSERVABILITY_ENV.logLevel]: "INFO",
        ...props.environment,
      },
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      deadLetterQueue: props.deadLetterQueue,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      projectRoot: PROJECT_ROOT,
      bundling: {
        format: OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: true,
        banner: ESM_REQUIRE_SHIM,
        // The SDK is bundled rather than taken from the runtime: the version that runs is the one package-lock.json
        // pins and the tests exercised, not whatever the runtime ships that month; tree-shaken and minified it also
        // loads faster than the runtime's copy.
        bundleAwsSDK: true,
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
      },
    });
  }
}
