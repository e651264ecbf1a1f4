import { existsSync } from "node:fs";
import { join } from "node:path";
import { type CfnElement, CfnOutput, CfnParameter, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import type { Distribution } from "aws-cdk-lib/aws-cloudfront";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Bucket } from "aws-cdk-lib/aws-s3";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { ENV } from "../shared/config.ts";
import { Containers, type ContainersProps } from "./constructs/containers.ts";
import { Dashboard } from "./constructs/dashboard.ts";
import { type EngineContext, machineIdentity } from "./constructs/engine-context.ts";
import { EvidenceExport } from "./constructs/evidence-export.ts";
import { StepwiseHttpApi } from "./constructs/http-api.ts";
import { JobEngine } from "./constructs/job-engine.ts";
import { Retention } from "./constructs/retention.ts";
import { RunEngine } from "./constructs/run-engine.ts";
import { RunEvents } from "./constructs/run-events.ts";
import { Storage } from "./constructs/storage.ts";
import { Triggers } from "./constructs/triggers.ts";
import { PROJECT_ROOT, type StepwiseFunction } from "./lambda-function.ts";

export interface StepwiseStackProps extends StackProps {
  /**
   * Name of the EventBridge bus that run and job-run events go to (source `stepwise`). Names are unique per account
   * and region: a second deployment in the same place needs another name.
   * @default "stepwise"
   */
  eventBusName?: string;
  /** @default RetentionDays.THREE_MONTHS */
  logRetention?: RetentionDays;
  /**
   * Let subscriptions target private and loopback ranges (receivers inside the VPC or peered networks). Link-local
   * and metadata addresses stay refused. Sets SUBSCRIPTIONS_ALLOW_PRIVATE_URLS on the API and delivery functions.
   * @default false
   */
  allowPrivateSubscriptionUrls?: boolean;
  /**
   * The account's Lambda functions that lambda nodes may invoke (InvokeFunction, GetFunctionConfiguration): a name
   * prefix and/or exact names. Unset, the CDK context decides (`stepwise:lambdaFunctionPrefix`,
   * `stepwise:lambdaFunctionNames`, comma-separated); with neither, nothing is granted.
   */
  userFunctions?: ContainersProps["userFunctions"];
  /** ECR repositories (ARNs) container nodes may pull private images from; default none (public registries only). */
  imageRepositoryArns?: string[];
}

/** The CDK context keys a deployer names the lambda nodes' functions with (`cdk deploy -c key=value`). */
export const USER_FUNCTIONS_CONTEXT = {
  prefix: "stepwise:lambdaFunctionPrefix",
  names: "stepwise:lambdaFunctionNames",
} as const;

/** The service's functions, by the name the stack and its tests use. */
export type FunctionName =
  | "retentionSweep"
  | "api"
  | "advanceRun"
  | "awaitHuman"
  | "recordFailure"
  | "reconcileExecution"
  | "sweepExpressRuns"
  | "containerStopped"
  | "scheduleTrigger"
  | "deliverEvents"
  | "runNext"
  | "recordJobFailure"
  | "reconcileJob"
  | "exportBundle";

/** The lambda nodes' functions as the CDK context names them (`-c stepwise:lambdaFunctionPrefix=team-`). */
function userFunctionsFromContext(scope: Construct): ContainersProps["userFunctions"] {
  const prefix = scope.node.tryGetContext(USER_FUNCTIONS_CONTEXT.prefix);
  const names = scope.node.tryGetContext(USER_FUNCTIONS_CONTEXT.names);
  const list = (Array.isArray(names) ? names : String(names ?? "").split(","))
    .map((n: unknown) => String(n).trim())
    .filter(Boolean);
  return { prefix: typeof prefix === "string" && prefix ? prefix : undefined, names: list };
}

/** The built dashboard (`npm run build:dashboard`), relative to the repository root. */
export const DASHBOARD_DIST = "dashboard/dist";

/** The delivery worker's timeout; the delivery queue hides a received message six times as long (AWS's advice). */
const DELIVERY_TIMEOUT = Duration.seconds(60);

/**
 * The constructs that group the stack's resources by concern. Their ids are left out of the resources' logical ids,
 * so that every resource keeps the logical id it had before the grouping: a deployed stack updates in place instead
 * of replacing its retained table and bucket, its named bus, machines and log groups, its API routes and its
 * distribution (which would fail on the names, or orphan the data).
 */
const CONCERNS = new Set(["Storage", "Events", "RunEngine", "JobEngine", "Triggers", "Retention", "Http", "Web"]);

/**
 * The Stepwise service: storage (table, bucket, secrets key; stateful, retained), the run and job engines on Step
 * Functions and Lambda, run events and triggers, the HTTP API, and the dashboard on S3 behind CloudFront (same origin
 * as the API). Each construct takes what it needs and grants what it owns.
 */
export class StepwiseStack extends Stack {
  readonly storage: Storage;
  readonly events: RunEvents;
  readonly runEngine: RunEngine;
  readonly jobEngine: JobEngine;
  readonly triggers: Triggers;
  readonly http: StepwiseHttpApi;
  readonly dashboard: Dashboard;
  readonly containers: Containers;

  constructor(scope: Construct, id: string, props: StepwiseStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    const dashboardDist = join(PROJECT_ROOT, DASHBOARD_DIST);
    if (!existsSync(join(dashboardDist, "index.html"))) {
      throw new Error(`${DASHBOARD_DIST} is missing: run \`npm run build:dashboard\` before synthesizing the stack`);
    }
    const platformKeyHash = new CfnParameter(this, "PlatformKeyHash", {
      type: "String",
      description: "sha256:<hex> of the platform (bootstrap) API key; the key itself is never deployed.",
      allowedPattern: "^sha256:[0-9a-f]{64}$",
      constraintDescription: "must be sha256: followed by 64 lowercase hex digits",
    });

    this.storage = new Storage(this, "Storage");
    this.events = new RunEvents(this, "Events", {
      eventBusName: props.eventBusName ?? "stepwise",
      deliveryTimeout: DELIVERY_TIMEOUT,
    });
    const ctx: EngineContext = {
      storage: this.storage,
      machines: {
        run: machineIdentity(this, "run"),
        runExpress: machineIdentity(this, "run-express"),
        job: machineIdentity(this, "job"),
      },
      events: this.events,
      logRetention,
    };
    this.triggers = new Triggers(this, "Triggers", ctx, { deliveryTimeout: DELIVERY_TIMEOUT });
    this.runEngine = new RunEngine(this, "RunEngine", ctx);
    this.containers = new Containers(this, "Containers", {
      onTaskStopped: this.runEngine.containerStopped.fn,
      userFunctions: props.userFunctions ?? userFunctionsFromContext(this),
      imageRepositoryArns: props.imageRepositoryArns,
      logRetention,
    });
    // Advance starts, stops and (on a lost event) describes the tasks and invokes the lambda nodes' functions; the
    // wake-up only reads what the STOPPED event carries, so it needs the settings and no ECS permission.
    this.containers.grantRunTasks(this.runEngine.advanceRun.role);
    this.containers.grantUserFunctions(this.runEngine.advanceRun.role);
    for (const f of [this.runEngine.advanceRun, this.runEngine.containerStopped]) {
      for (const [name, value] of Object.entries(this.containers.environment())) f.fn.addEnvironment(name, value);
    }
    this.jobEngine = new JobEngine(this, "JobEngine", ctx);
    const retention = new Retention(this, "Retention", ctx);
    this.http = new StepwiseHttpApi(this, "Http", ctx, {
      platformKeyHash: platformKeyHash.valueAsString,
      runEngine: this.runEngine,
      triggers: this.triggers,
    });
    const evidenceExport = new EvidenceExport(this, "Export", ctx);
    evidenceExport.grantStart(this.http.api);
    this.dashboard = new Dashboard(this, "Web", {
      distDir: dashboardDist,
      apiHost: this.http.endpointHost,
      dataBucket: this.storage.bucket,
      logRetention,
    });
    this.functions = {
      retentionSweep: retention.retentionSweep,
      api: this.http.api,
      ...this.runEngine.functions,
      scheduleTrigger: this.triggers.scheduleTrigger,
      deliverEvents: this.triggers.deliverEvents,
      ...this.jobEngine.functions,
      exportBundle: evidenceExport.exportBundle,
    };
    // Only when allowed: the default deployment's functions carry no such variable.
    if (props.allowPrivateSubscriptionUrls) {
      for (const f of [this.http.api, this.triggers.deliverEvents])
        f.fn.addEnvironment(ENV.subscriptionsAllowPrivateUrls, "true");
    }

    new CfnOutput(this, "ApiUrl", { value: this.http.stage.url, description: "Base URL of the HTTP API" });
    new CfnOutput(this, "DashboardUrl", {
      value: `https://${this.distribution.distributionDomainName}/`,
      description: "The dashboard; the API is also served on this origin (/api/*, /hooks/*)",
    });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "BucketName", { value: this.bucket.bucketName });
    new CfnOutput(this, "RunStateMachineArn", { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, "RunExpressStateMachineArn", {
      value: this.runEngine.expressStateMachine.stateMachineArn,
      description: "The Express twin of the run machine: runs with no human step, long wait or container node",
    });
    new CfnOutput(this, "EcsClusterName", {
      value: this.containers.cluster.clusterName,
      description: "Where container nodes run (one Fargate task per attempt)",
    });
    new CfnOutput(this, "JobStateMachineArn", { value: this.jobStateMachine.stateMachineArn });
  }

  /** Every function of the service, by name. */
  readonly functions: Record<FunctionName, StepwiseFunction>;

  get table(): Table {
    return this.storage.table;
  }
  get bucket(): Bucket {
    return this.storage.bucket;
  }
  get stateMachine(): StateMachine {
    return this.runEngine.stateMachine;
  }
  get jobStateMachine(): StateMachine {
    return this.jobEngine.stateMachine;
  }
  get httpApi(): HttpApi {
    return this.http.httpApi;
  }
  get dashboardBucket(): Bucket {
    return this.dashboard.bucket;
  }
  get distribution(): Distribution {
    return this.dashboard.distribution;
  }

  /** A resource's logical id as if it sat at the stack's root: the concern constructs group, they do not rename. */
  protected override allocateLogicalId(element: CfnElement): string {
    const scopes = element.node.scopes.filter((s) => !(s.node.scope === this && CONCERNS.has(s.node.id)));
    const flat: CfnElement = Object.create(element, { node: { value: { scopes } } });
    return super.allocateLogicalId(flat);
  }
}
