import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement, type PolicyValidationPluginReport, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { CachePolicy, OriginRequestPolicy } from "aws-cdk-lib/aws-cloudfront";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { StateMachine as LocalStateMachine } from "aws-local-stepfunctions";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_SPECS } from "../../functions/http/route-specs.ts";
import { EXPRESS_SWEEP_MINUTES } from "../../infra/constructs/run-engine.ts";
import { PROJECT_ROOT, type StepwiseFunction } from "../../infra/lambda-function.ts";
import { DASHBOARD_DIST, StepwiseStack, USER_FUNCTIONS_CONTEXT } from "../../infra/stepwise-stack.ts";
import { createTableInput, TTL_ATTRIBUTE } from "../../shared/adapters/dynamo-table.ts";
import { ECS_TASK_GROUP } from "../../shared/adapters/ecs/ecs-task-driver.ts";
import { CONTAINER_ENV, OBSERVABILITY_ENV } from "../../shared/config.ts";

/** The Powertools settings every function carries. */
const OBSERVABILITY_NAMES = Object.values(OBSERVABILITY_ENV);

import { buildJobRunStateMachine, JOB_STATE } from "../../shared/jobs/job-run-state-machine.ts";
import { EXPRESS_DEAD_AFTER_MS } from "../../shared/runs/express-sweep.ts";
import {
  buildRunStateMachine,
  LAMBDA_SERVICE_ERRORS,
  STATE,
  toExpressRunStateMachine,
} from "../../shared/state-machine/run-state-machine.ts";

// One synthesis (with real esbuild bundling of the thirteen entries) for the whole file.
let outdir: string;
let app: App;
let stack: StepwiseStack;
let template: Template;
let nag: PolicyValidationPluginReport;

type Json = Record<string, any>;
type FunctionKey = keyof StepwiseStack["functions"];

beforeAll(() => {
  // The stack deploys the built dashboard and refuses to synthesize without it; `npm ci` builds it (prepare).
  if (!existsSync(join(PROJECT_ROOT, DASHBOARD_DIST, "index.html"))) {
    execFileSync("npm", ["run", "build:dashboard"], { cwd: PROJECT_ROOT, stdio: "ignore" });
  }
  outdir = mkdtempSync(join(tmpdir(), "stepwise-infra-"));
  // The context `cdk synth` would pass: cdk.json's, plus asset metadata so that the bundles can be found.
  const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8"));
  app = new App({ outdir, context: { ...cdkJson.context, "aws:cdk:enable-asset-metadata": true } });
  stack = new StepwiseStack(app, "Stepwise");
  template = Template.fromStack(stack);
  nag = new AwsSolutionsChecks().validateScope(app);
}, 480_000); // esbuild bundles thirteen functions (and vite may build the dashboard); generous for a loaded CI machine

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

function logicalId(construct: IConstruct): string {
  return stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

function fnLogicalId(key: FunctionKey): string {
  return logicalId(stack.functions[key].fn);
}

function functionProps(key: FunctionKey): Json {
  return template.toJSON().Resources[fnLogicalId(key)].Properties;
}

/** Every IAM action granted to a role, with the resources of each statement, from the role's inline policies. */
function grantsOf(f: StepwiseFunction): { action: string; resources: unknown[] }[] {
  const roleId = logicalId(f.role);
  const grants: { action: string; resources: unknown[] }[] = [];
  for (const policy of Object.values(template.findResources("AWS::IAM::Policy")) as Json[]) {
    if (!policy.Properties.Roles.some((r: Json) => r.Ref === roleId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Json[]) {
      if (statement.Effect !== "Allow") continue;
      const resources = [statement.Resource].flat();
      for (const action of [statement.Action].flat()) grants.push({ action, resources });
    }
  }
  return grants;
}

function actionsOf(f: StepwiseFunction): string[] {
  return [...new Set(grantsOf(f).map((g) => g.action))].sort();
}

/** Which function each token of a machine's definition stands for, as a plain name. */
const RUN_MACHINE_NAMES: [FunctionKey, string][] = [
  ["advanceRun", "advance-run"],
  ["awaitHuman", "await-human"],
  ["recordFailure", "record-failure"],
];
const JOB_MACHINE_NAMES: [FunctionKey, string][] = [
  ["runNext", "run-next"],
  ["recordJobFailure", "record-job-failure"],
];

/**
 * A state machine exactly as synthesized: its DefinitionString is an Fn::Join around Fn::GetAtt tokens of the
 * function ARNs; the tokens become plain function names so the ASL can run outside AWS.
 */
function synthesizedDefinition(
  machine: StateMachine = stack.stateMachine,
  fnNames: [FunctionKey, string][] = RUN_MACHINE_NAMES,
): Json {
  const body = template.toJSON().Resources[logicalId(machine)]?.Properties.DefinitionString;
  if (typeof body === "string") return JSON.parse(body);
  const names = new Map(fnNames.map(([key, name]) => [fnLogicalId(key), name]));
  const [delimiter, parts] = body["Fn::Join"] as [string, unknown[]];
  const text = parts
    .map((part) => {
      if (typeof part === "string") return part;
      const [resource, attribute] = (part as Json)["Fn::GetAtt"] ?? [];
      const name = names.get(resource);
      if (!name || attribute !== "Arn") throw new Error(`unexpected token in the definition: ${JSON.stringify(part)}`);
      return name;
    })
    .join(delimiter);
  return JSON.parse(text);
}

/** A Step Functions ARN of the stack as a short name: run, run:*, run-express, job or job:* (else as JSON). */
function machineTarget(resource: unknown): string {
  const text = JSON.stringify(resource);
  const m = /:(stateMachine|execution):Stepwise-(run|run-express|job)(:\*)?"/.exec(text);
  if (!m) return text;
  return m[1] === "execution" ? `${m[2]}:*` : (m[2] as string);
}

/** Every states: action of a function's role with each resource it applies to, as "action target". */
function stateGrantsOf(f: StepwiseFunction): string[] {
  const out = new Set<string>();
  for (const g of grantsOf(f)) {
    if (!g.action.startsWith("states:")) continue;
    for (const r of g.resources) out.add(`${g.action} ${machineTarget(r)}`);
  }
  return [...out].sort();
}

/** Whether a statement's resources name the resource of the given logical id (by Ref or Fn::GetAtt). */
const refersTo = (resources: unknown[], id: string): boolean => JSON.stringify(resources).includes(`"${id}"`);

/** The synthesized policies of a role, as allowed statements. */
function statementsOfRole(roleId: string): Json[] {
  return (Object.values(template.findResources("AWS::IAM::Policy")) as Json[])
    .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
}

describe("storage", () => {
  it("has the single table of the embedded mode, with point-in-time recovery and the TTL attribute", () => {
    const local = createTableInput("ignored");
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: local.KeySchema,
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      AttributeDefinitions: Match.arrayWith(local.AttributeDefinitions),
      GlobalSecondaryIndexes: local.GlobalSecondaryIndexes,
    });
    template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Retain" });
  });

  it("has an encrypted bucket with public access blocked that refuses plain HTTP", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  it("lets the dashboard follow presigned redirects to run files (GET and HEAD, no credentials)", () => {
    const data = (template.toJSON().Resources[logicalId(stack.bucket)] as Json).Properties;
    expect(data.CorsConfiguration).toEqual({
      CorsRules: [{ AllowedMethods: ["GET", "HEAD"], AllowedOrigins: ["*"], MaxAge: 3000 }],
    });
    expect(JSON.stringify(data.PublicAccessBlockConfiguration)).not.toContain("false");
  });
});

describe("constructs", () => {
  it("keep the logical ids the resources had before the grouping, so a deployed stack updates in place", () => {
    // Retained data (table, bucket, keys), named resources (bus, machines, their log groups), the API with its stage
    // and routes, the distribution and the queue mapping: replacing any of them would orphan data, fail on the name,
    // change a URL users hold, or be refused as a duplicate.
    const kept = [
      "TableCD117FA1",
      "Bucket83908E77",
      "SecretsKey317DCF94",
      "EventsKeyB314AFD5",
      "EventBus7B8748AA",
      "DeliveryQueueA11633D0",
      "ScheduleGroup4D377372",
      "RunStateMachine3670F20F",
      "RunStateMachineLogs4092BD5D",
      "JobRunStateMachineC432D453",
      "JobRunStateMachineLogsCB864F75",
      // New with the Express lane and container nodes; pinned from here on.
      "RunExpressStateMachineBA1B32ED",
      "ContainersCluster6C6D9065",
      "HttpApiF5A9A8A7",
      "HttpApiStage21ACA647",
      "HttpApiGETapihealth7FA5887F",
      "Dashboard9E4231ED",
      "DeliverEventsFunctionSqsEventSourceStepwiseDeliveryQueueEA4FDC4EA2029291",
    ];
    const resources = template.toJSON().Resources as Json;
    expect(kept.filter((id) => !resources[id])).toEqual([]);
    expect(resources.ScheduleGroup4D377372.Properties.Name).toBe("Stepwise-ScheduleGroup-0F1ABF53");
  });
});

describe("HTTP API", () => {
  it("has one route per contract route and $default, all proxied to the api function without an authorizer", () => {
    const routes = Object.values(template.findResources("AWS::ApiGatewayV2::Route")) as Json[];
    expect(routes).toHaveLength(ROUTE_SPECS.length + 1);
    const keys = routes.map((r) => r.Properties.RouteKey as string).sort();
    // $default sends unknown paths and methods to the function, whose 404/405 keep the contract's error shape.
    expect(keys).toEqual([...ROUTE_SPECS.map((s) => `${s.method} ${s.path}`), "$default"].sort());
    expect(keys).toContain("GET /api/runs/{runId}");
    expect(keys).toContain("PUT /api/workflows/{name}");
    expect(keys).toContain("GET /api/runs/{runId}/files/{path+}");
    expect(keys).toContain("POST /hooks/{webhookId}");
    for (const route of routes) expect(route.Properties.AuthorizationType ?? "NONE").toBe("NONE");

    template.resourceCountIs("AWS::ApiGatewayV2::Integration", 1);
    template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
      PayloadFormatVersion: "2.0",
      IntegrationUri: { "Fn::GetAtt": [fnLogicalId("api"), "Arn"] },
    });
    // One permission for the whole API keeps the function's resource policy small.
    const permissions = Object.values(template.findResources("AWS::Lambda::Permission")) as Json[];
    const fromApiGateway = permissions.filter((p) => p.Properties.Principal === "apigateway.amazonaws.com");
    expect(fromApiGateway).toHaveLength(1);
  });

  it("logs access and throttles on its default stage, and outputs its URL", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("requestId") },
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
    });
    const outputs = template.toJSON().Outputs as Json;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        "ApiUrl",
        "DashboardUrl",
        "TableName",
        "BucketName",
        "RunStateMachineArn",
        "RunExpressStateMachineArn",
        "JobStateMachineArn",
        "EcsClusterName",
      ]),
    );
  });
});

/** The functions that change run or job-run statuses: they publish, and may start a schedule's buffered firing. */
const CHANGES_STATUSES: FunctionKey[] = [
  "api",
  "advanceRun",
  "recordFailure",
  "reconcileExecution",
  "sweepExpressRuns",
  "containerStopped",
  "scheduleTrigger",
  "runNext",
  "recordJobFailure",
  "reconcileJob",
];

describe("functions", () => {
  it("run on nodejs22.x, arm64, traced, bundled as ESM from the repository's entries, all wiring the jobs area", () => {
    const lambdas = template.findResources("AWS::Lambda::Function");
    const ours = Object.keys(stack.functions).map((k) => fnLogicalId(k as FunctionKey));
    expect(ours).toHaveLength(14);
    // The only other function is CDK's handler of the dashboard deployment.
    const others = Object.keys(lambdas).filter((id) => !ours.includes(id));
    expect(others).toHaveLength(1);
    expect(others[0]).toMatch(/^CustomCDKBucketDeployment/);
    for (const id of ours) {
      const f = lambdas[id] as Json;
      expect(f.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        TracingConfig: { Mode: "Active" },
      });
      const bundle = join(outdir, f.Metadata["aws:asset:path"], "index.mjs");
      const code = readFileSync(bundle, "utf8");
      expect(code.startsWith('import { createRequire as __stepwiseCreateRequire } from "node:module";')).toBe(true);
      // The SDK is bundled (pinned by package-lock.json), not imported from the runtime.
      expect(code).not.toMatch(/from\s*"@aws-sdk\//);
      // Every entry registers the jobs area (functions/jobs-cloud.ts) and the triggers area before cloudDeps().
      expect(code, id).toContain("JOB_STATE_MACHINE_ARN is not set in this function's environment");
      expect(code, id).toContain(
        "EventBridge Scheduler (SCHEDULE_GROUP_NAME, SCHEDULER_ROLE_ARN, SCHEDULE_TARGET_ARN)",
      );
    }
  });

  it("size each function for its work", () => {
    expect(functionProps("advanceRun")).toMatchObject({
      MemorySize: 1024,
      Timeout: 900,
      EphemeralStorage: { Size: 2048 },
    });
    expect(functionProps("api")).toMatchObject({ MemorySize: 512, Timeout: 29 });
    // The export worker streams the bundle to S3 for up to 15 minutes, staging one stored object at a time in /tmp.
    expect(functionProps("exportBundle")).toMatchObject({
      MemorySize: 1024,
      Timeout: 900,
      EphemeralStorage: { Size: 10240 },
    });
    const small: FunctionKey[] = [
      "awaitHuman",
      "recordFailure",
      "reconcileExecution",
      "scheduleTrigger",
      "deliverEvents",
      "runNext",
      "recordJobFailure",
      "reconcileJob",
    ];
    for (const key of small) {
      const props = functionProps(key);
      expect(props.MemorySize).toBe(256);
      expect(props.Timeout).toBeGreaterThanOrEqual(30);
      expect(props.Timeout).toBeLessThanOrEqual(60);
    }
    expect(functionProps("deliverEvents").Timeout).toBe(60);
    expect(functionProps("sweepExpressRuns")).toMatchObject({ MemorySize: 256, Timeout: 60 });
    // It unpacks a container's stage-out result (out/ files) before recording them.
    expect(functionProps("containerStopped")).toMatchObject({
      MemorySize: 512,
      Timeout: 120,
      EphemeralStorage: { Size: 2048 },
    });
  });

  it("get the environment that loadConfig reads, with the platform key hash from a parameter", () => {
    const env = (key: FunctionKey) => functionProps(key).Environment.Variables as Json;
    for (const key of Object.keys(stack.functions) as FunctionKey[]) {
      // shared/adapters/cloud-adapters.ts wires the same dependencies in every function and requires these three.
      expect(Object.keys(env(key))).toEqual(
        expect.arrayContaining(["TABLE_NAME", "BUCKET_NAME", "RUN_STATE_MACHINE_ARN"]),
      );
    }
    const notifier = ["EVENTS_TOPIC_ARN", "EVENT_BUS_NAME", "DELIVERY_QUEUE_URL"];
    for (const key of CHANGES_STATUSES) {
      // Each may start a run (a trigger, a schedule's buffered firing, a run given a concurrency slot): in its lane.
      expect(Object.keys(env(key)), key).toEqual(
        expect.arrayContaining([...notifier, "JOB_STATE_MACHINE_ARN", "RUN_EXPRESS_STATE_MACHINE_ARN"]),
      );
      expect(env(key).JOB_STATE_MACHINE_ARN).toEqual(env("api").JOB_STATE_MACHINE_ARN);
      expect(env(key).RUN_EXPRESS_STATE_MACHINE_ARN).toEqual(env("api").RUN_EXPRESS_STATE_MACHINE_ARN);
    }
    expect(JSON.stringify(env("api").RUN_EXPRESS_STATE_MACHINE_ARN)).toContain(":stateMachine:Stepwise-run-express");
    for (const key of ["deliverEvents", "retentionSweep", "awaitHuman"] as const)
      expect(env(key).RUN_EXPRESS_STATE_MACHINE_ARN, key).toBeUndefined();
    expect(JSON.stringify(env("api").JOB_STATE_MACHINE_ARN)).toContain(":stateMachine:Stepwise-job");
    expect(Object.keys(env("api")).sort()).toEqual(
      [
        "BUCKET_NAME",
        "DELIVERY_QUEUE_URL",
        "EVENTS_TOPIC_ARN",
        "EVENT_BUS_NAME",
        "EXPORT_FUNCTION_NAME",
        "JOB_STATE_MACHINE_ARN",
        "NODE_OPTIONS",
        ...OBSERVABILITY_NAMES,
        "PLATFORM_KEY_HASH",
        "RUN_EXPRESS_STATE_MACHINE_ARN",
        "RUN_STATE_MACHINE_ARN",
        "SCHEDULER_ROLE_ARN",
        "SCHEDULE_GROUP_NAME",
        "SCHEDULE_TARGET_ARN",
        "SECRETS_KMS_KEY_ID",
        "TABLE_NAME",
      ].sort(),
    );
    expect(env("api").EXPORT_FUNCTION_NAME).toEqual({ Ref: fnLogicalId("exportBundle") });
    expect(Object.keys(env("exportBundle")).sort()).toEqual(
      ["BUCKET_NAME", "NODE_OPTIONS", ...OBSERVABILITY_NAMES, "RUN_STATE_MACHINE_ARN", "TABLE_NAME"].sort(),
    );
    expect(env("api").SCHEDULE_TARGET_ARN).toEqual({ "Fn::GetAtt": [fnLogicalId("scheduleTrigger"), "Arn"] });
    expect(Object.keys(env("deliverEvents")).sort()).toEqual(
      [
        "BUCKET_NAME",
        "DELIVERY_QUEUE_URL",
        "NODE_OPTIONS",
        ...OBSERVABILITY_NAMES,
        "RUN_STATE_MACHINE_ARN",
        "SECRETS_KMS_KEY_ID",
        "TABLE_NAME",
      ].sort(),
    );
    expect(Object.keys(env("awaitHuman")).sort()).toEqual(
      ["BUCKET_NAME", "NODE_OPTIONS", ...OBSERVABILITY_NAMES, "RUN_STATE_MACHINE_ARN", "TABLE_NAME"].sort(),
    );
    expect(env("api").PLATFORM_KEY_HASH).toEqual({ Ref: "PlatformKeyHash" });
    expect(env("advanceRun").NODE_OPTIONS).toBe("--enable-source-maps");
    for (const key of Object.keys(stack.functions) as FunctionKey[])
      expect(env(key), key).toMatchObject({
        POWERTOOLS_SERVICE_NAME: "stepwise",
        POWERTOOLS_METRICS_NAMESPACE: "Stepwise",
        POWERTOOLS_LOG_LEVEL: "INFO",
      });
    expect(template.toJSON().Parameters.PlatformKeyHash).toMatchObject({
      Type: "String",
      AllowedPattern: "^sha256:[0-9a-f]{64}$",
    });
    expect(env("advanceRun").SECRETS_KMS_KEY_ID).toBeDefined();
  });
});

describe("least privilege", () => {
  it("grants no wildcard action and no service-wide access", () => {
    for (const f of Object.values(stack.functions)) {
      for (const action of actionsOf(f)) {
        expect(action).not.toMatch(/:\*$|^\*$/);
      }
    }
  });

  it("gives each function exactly the Step Functions actions it uses, on the stack's two machines only", () => {
    const steerRun = ["StartExecution", "StopExecution", "DescribeExecution", "SendTaskSuccess", "SendTaskFailure"]
      .flatMap((a) => [`states:${a} run`, `states:${a} run:*`])
      .sort();
    // Starting a run (in its lane's machine) or a job run: a buffered schedule firing, a freed concurrency slot.
    const startTargets = [
      "states:StartExecution job",
      "states:StartExecution run",
      "states:StartExecution run-express",
    ];
    // Completing a job run's wait when one of its workflow runs ends.
    const wakeJob = ["states:SendTaskSuccess job"];
    const expected: Record<FunctionKey, string[]> = {
      api: [...steerRun, ...startTargets, ...wakeJob],
      advanceRun: [...startTargets, ...wakeJob],
      awaitHuman: steerRun,
      recordFailure: [...startTargets, ...wakeJob],
      reconcileExecution: [...steerRun, ...startTargets, ...wakeJob],
      sweepExpressRuns: [...startTargets, ...wakeJob],
      // It wakes the run from its task-token wait, and nothing else of the machine.
      containerStopped: [...startTargets, ...wakeJob, "states:SendTaskSuccess run", "states:SendTaskSuccess run:*"],
      scheduleTrigger: startTargets,
      deliverEvents: [],
      retentionSweep: [],
      runNext: [...startTargets, ...wakeJob, "states:StopExecution run:*"],
      recordJobFailure: startTargets,
      reconcileJob: startTargets,
      exportBundle: [],
    };
    for (const [key, grants] of Object.entries(expected)) {
      expect(stateGrantsOf(stack.functions[key as FunctionKey]), key).toEqual([...new Set(grants)].sort());
    }
  });

  it("gives objects and the secrets key to api and advance-run, and unsealing to the delivery worker and the container wake-up", () => {
    const secretsKeyId = logicalId(stack.storage.secretsKey);
    const onSecretsKey = (key: FunctionKey) =>
      grantsOf(stack.functions[key])
        .filter((g) => g.action.startsWith("kms:") && refersTo(g.resources, secretsKeyId))
        .map((g) => g.action)
        .sort();
    const objectActions = (key: FunctionKey) =>
      actionsOf(stack.functions[key]).filter((a) => ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"].includes(a));
    for (const key of ["api", "advanceRun"] as const) {
      expect(objectActions(key)).toEqual(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]);
      expect(onSecretsKey(key)).toEqual(["kms:Decrypt", "kms:Encrypt"]);
    }
    expect(onSecretsKey("deliverEvents")).toEqual(["kms:Decrypt"]);
    // The container wake-up reads the stage-out result, writes run files and logs, and redacts the run's secrets.
    expect(objectActions("containerStopped")).toEqual(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]);
    expect(onSecretsKey("containerStopped")).toEqual(["kms:Decrypt"]);
    // The retention sweep may only delete (see the retention test below).
    expect(objectActions("retentionSweep")).toEqual(["s3:DeleteObject"]);
    // The export worker reads any object of the bucket and writes under the exports prefix only; it reads records.
    const exportGrants = grantsOf(stack.functions.exportBundle);
    const bucketId = logicalId(stack.storage.bucket);
    const objectsOf = (action: string) =>
      JSON.stringify(exportGrants.filter((g) => g.action === action).map((g) => g.resources));
    expect(objectActions("exportBundle")).toEqual(["s3:GetObject", "s3:PutObject"]);
    expect(objectsOf("s3:PutObject")).toContain('"/orgs/*/runs/*/exports/*"');
    expect(objectsOf("s3:PutObject")).not.toMatch(/"\/\*"/);
    expect(objectsOf("s3:PutObject")).toContain(bucketId);
    expect(actionsOf(stack.functions.exportBundle).filter((a) => a.startsWith("dynamodb:"))).not.toEqual(
      expect.arrayContaining(["dynamodb:PutItem"]),
    );
    expect(actionsOf(stack.functions.exportBundle)).toContain("dynamodb:GetItem");
    expect(onSecretsKey("exportBundle")).toEqual([]);
    const withObjects: FunctionKey[] = ["api", "advanceRun", "retentionSweep", "containerStopped", "exportBundle"];
    for (const key of Object.keys(stack.functions) as FunctionKey[]) {
      if (withObjects.includes(key)) continue;
      expect(objectActions(key), key).toEqual([]);
      if (key !== "deliverEvents") expect(onSecretsKey(key), key).toEqual([]);
    }
  });

  it("lets the functions that change statuses publish, and no other", () => {
    const publishing = ["events:PutEvents", "sns:Publish"];
    for (const key of Object.keys(stack.functions) as FunctionKey[]) {
      const actions = actionsOf(stack.functions[key]).filter((a) => publishing.includes(a));
      expect(actions, key).toEqual(CHANGES_STATUSES.includes(key) ? publishing : []);
    }
    // The delivery worker re-queues deliveries (SendMessage) and consumes the queue through its event source.
    const queueId = logicalId(stack.events.deliveryQueue);
    const onQueue = grantsOf(stack.functions.deliverEvents)
      .filter((g) => refersTo(g.resources, queueId))
      .map((g) => g.action);
    expect(onQueue).toEqual(
      expect.arrayContaining([
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
      ]),
    );
  });

  it("lets each state machine invoke exactly its own functions", () => {
    const invokes = (machine: StateMachine) =>
      statementsOfRole(logicalId(machine.role)).filter((s) => [s.Action].flat().includes("lambda:InvokeFunction"));
    const run = invokes(stack.stateMachine);
    expect(run).toHaveLength(1);
    expect(run[0]?.Resource).toEqual(
      (["advanceRun", "awaitHuman", "recordFailure"] as const).map((k) => ({ "Fn::GetAtt": [fnLogicalId(k), "Arn"] })),
    );
    // The Express twin has no task-token wait: it never calls AwaitHuman.
    const express = invokes(stack.runEngine.expressStateMachine);
    expect(express).toHaveLength(1);
    expect(express[0]?.Resource).toEqual(
      (["advanceRun", "recordFailure"] as const).map((k) => ({ "Fn::GetAtt": [fnLogicalId(k), "Arn"] })),
    );
    const job = invokes(stack.jobStateMachine);
    expect(job).toHaveLength(1);
    expect(job[0]?.Resource).toEqual(
      (["runNext", "recordJobFailure"] as const).map((k) => ({ "Fn::GetAtt": [fnLogicalId(k), "Arn"] })),
    );
  });

  it("lets the run machine (and its Express twin) start executions of itself only, to continue as new", () => {
    const starts = (machine: StateMachine) =>
      statementsOfRole(logicalId(machine.role))
        .filter((s) => [s.Action].flat().includes("states:StartExecution"))
        .map((s) => JSON.stringify(s.Resource));
    expect(starts(stack.stateMachine)).toHaveLength(1);
    expect(starts(stack.stateMachine)[0]).toMatch(/:stateMachine:Stepwise-run"/);
    expect(starts(stack.runEngine.expressStateMachine)).toHaveLength(1);
    expect(starts(stack.runEngine.expressStateMachine)[0]).toMatch(/:stateMachine:Stepwise-run-express"/);
  });

  it("lets the scheduler role invoke the schedule-trigger function and nothing else", () => {
    const roleId = logicalId(stack.triggers.schedulerRole);
    const statements = statementsOfRole(roleId);
    expect(statements).toEqual([
      {
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: { "Fn::GetAtt": [fnLogicalId("scheduleTrigger"), "Arn"] },
      },
    ]);
    const role = template.toJSON().Resources[roleId] as Json;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    // Only the API hands the role to EventBridge Scheduler; Advance hands ECS the two task roles (below).
    for (const key of Object.keys(stack.functions) as FunctionKey[]) {
      const passes = grantsOf(stack.functions[key]).filter((g) => g.action === "iam:PassRole");
      if (key === "api") expect(passes.map((g) => g.resources)).toEqual([[{ "Fn::GetAtt": [roleId, "Arn"] }]]);
      else if (key === "advanceRun") expect(JSON.stringify(passes)).not.toContain(roleId);
      else expect(passes, key).toEqual([]);
    }
  });
});

describe("state machines", () => {
  it("are Standard machines (and the run machine's Express twin) that log every event without execution data and trace with X-Ray", () => {
    for (const [name, type] of [
      ["Stepwise-run", "STANDARD"],
      ["Stepwise-run-express", "EXPRESS"],
      ["Stepwise-job", "STANDARD"],
    ]) {
      template.hasResourceProperties("AWS::StepFunctions::StateMachine", {
        StateMachineType: type,
        StateMachineName: name,
        LoggingConfiguration: {
          Level: "ALL",
          IncludeExecutionData: false,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
        },
        TracingConfiguration: { Enabled: true },
      });
    }
    template.resourceCountIs("AWS::StepFunctions::StateMachine", 3);
  });

  it("carry the shared run and job-run definitions unchanged", () => {
    expect(synthesizedDefinition()).toEqual(
      buildRunStateMachine({ advance: "advance-run", awaitHuman: "await-human", recordFailure: "record-failure" }),
    );
    expect(synthesizedDefinition(stack.jobStateMachine, JOB_MACHINE_NAMES)).toEqual(
      buildJobRunStateMachine({ runNext: "run-next", recordFailure: "record-job-failure" }),
    );
    expect(synthesizedDefinition(stack.runEngine.expressStateMachine)).toEqual(
      toExpressRunStateMachine(
        buildRunStateMachine({ advance: "advance-run", awaitHuman: "await-human", recordFailure: "record-failure" }),
      ),
    );
  });

  it("sweep dead Express runs on a schedule (Express executions send no status events)", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: `rate(${EXPRESS_SWEEP_MINUTES} minutes)`,
      State: "ENABLED",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [fnLogicalId("sweepExpressRuns"), "Arn"] } })],
    });
    expect(stack.functions.sweepExpressRuns.entry).toBe("functions/sweep-express-runs.ts");
    // The sweep may call a run dead only when no execution of it can be alive: well within one sweep's period.
    expect(EXPRESS_SWEEP_MINUTES * 60_000).toBeLessThan(EXPRESS_DEAD_AFTER_MS);
  });

  it("retry Lambda's service errors and throttling on every Lambda task, the human wait included", () => {
    const machines = [
      synthesizedDefinition(),
      synthesizedDefinition(stack.runEngine.expressStateMachine),
      synthesizedDefinition(stack.jobStateMachine, JOB_MACHINE_NAMES),
    ];
    for (const definition of machines) {
      const tasks = Object.entries(definition.States as Json).filter(
        ([, st]) =>
          (st as Json).Type === "Task" && String((st as Json).Resource).startsWith("arn:aws:states:::lambda:"),
      );
      expect(tasks.length).toBeGreaterThan(1);
      for (const [name, state] of tasks) {
        const retried = ((state as Json).Retry ?? []).flatMap((r: Json) => r.ErrorEquals);
        expect(retried, name).toEqual(expect.arrayContaining([...LAMBDA_SERVICE_ERRORS]));
      }
    }
    expect(LAMBDA_SERVICE_ERRORS).toEqual(
      expect.arrayContaining([
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Lambda.ClientExecutionTimeoutException",
      ]),
    );
  });

  it("hand executions that died outside the handlers to their reconcilers, with dead-letter queues", () => {
    const cases = [
      [stack.stateMachine, "reconcileExecution"],
      [stack.jobStateMachine, "reconcileJob"],
    ] as const;
    for (const [machine, reconciler] of cases) {
      template.hasResourceProperties("AWS::Events::Rule", {
        EventPattern: {
          source: ["aws.states"],
          "detail-type": ["Step Functions Execution Status Change"],
          detail: {
            stateMachineArn: [{ Ref: logicalId(machine) }],
            status: ["FAILED", "TIMED_OUT", "ABORTED"],
          },
        },
        Targets: [
          Match.objectLike({
            Arn: { "Fn::GetAtt": [fnLogicalId(reconciler), "Arn"] },
            DeadLetterConfig: { Arn: Match.anyValue() },
            RetryPolicy: Match.anyValue(),
          }),
        ],
      });
      expect(functionProps(reconciler).DeadLetterConfig).toBeDefined();
    }
  });
});

describe("container and lambda nodes", () => {
  const roleArn = (role: IConstruct) => ({ "Fn::GetAtt": [logicalId(role), "Arn"] });

  it("has the ECS cluster, task and execution roles, the tasks' log group, and the stage image as an asset", () => {
    template.resourceCountIs("AWS::ECS::Cluster", 1);
    for (const role of [stack.containers.taskRole, stack.containers.executionRole]) {
      const props = (template.toJSON().Resources[logicalId(role)] as Json).Properties;
      expect(props.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: "ecs-tasks.amazonaws.com" });
    }
    // What the user's code could use holds nothing.
    expect(statementsOfRole(logicalId(stack.containers.taskRole))).toEqual([]);
    expect(template.toJSON().Resources[logicalId(stack.containers.logGroup)]?.Type).toBe("AWS::Logs::LogGroup");
    // Built from infra/stage-image at deploy time; synth only stages the folder (offline, no docker).
    const manifest = JSON.parse(readFileSync(join(outdir, "Stepwise.assets.json"), "utf8"));
    const images = Object.values(manifest.dockerImages) as Json[];
    expect(images).toHaveLength(1);
    expect(readdirSync(join(outdir, images[0]?.source.directory)).sort()).toEqual(["Dockerfile", "stage.mjs"]);
    template.resourceCountIs("AWS::EC2::NatGateway", 0);
  });

  it("wakes the run through ContainerStopped when one of its tasks in the cluster stops", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          clusterArn: [{ "Fn::GetAtt": [logicalId(stack.containers.cluster), "Arn"] }],
          lastStatus: ["STOPPED"],
          group: [ECS_TASK_GROUP],
        },
      },
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [fnLogicalId("containerStopped"), "Arn"] } })],
    });
    expect(stack.functions.containerStopped.entry).toBe("functions/container-stopped.ts");
  });

  it("lets Advance run, describe and stop tasks and pass exactly the two task roles; no other function touches ECS", () => {
    const grants = grantsOf(stack.functions.advanceRun);
    const ecs = [...new Set(grants.filter((g) => g.action.startsWith("ecs:")).map((g) => g.action))].sort();
    expect(ecs).toEqual([
      "ecs:DescribeTaskDefinition",
      "ecs:DescribeTasks",
      "ecs:RegisterTaskDefinition",
      "ecs:RunTask",
      "ecs:StopTask",
      "ecs:TagResource",
    ]);
    const passes = grants.filter((g) => g.action === "iam:PassRole");
    expect(passes.map((g) => g.resources)).toEqual([
      [roleArn(stack.containers.taskRole), roleArn(stack.containers.executionRole)],
    ]);
    const run = statementsOfRole(logicalId(stack.functions.advanceRun.role)).find((s) => s.Action === "ecs:RunTask");
    expect(run?.Condition).toEqual({
      ArnEquals: { "ecs:cluster": { "Fn::GetAtt": [logicalId(stack.containers.cluster), "Arn"] } },
    });
    for (const key of Object.keys(stack.functions) as FunctionKey[]) {
      if (key === "advanceRun") continue;
      expect(
        actionsOf(stack.functions[key]).filter((a) => a.startsWith("ecs:")),
        key,
      ).toEqual([]);
    }
  });

  it("gives Advance and ContainerStopped the ECS settings, and no other function", () => {
    for (const key of Object.keys(stack.functions) as FunctionKey[]) {
      const env = Object.keys(functionProps(key).Environment.Variables);
      const ecs = env.filter((k) => (Object.values(CONTAINER_ENV) as string[]).includes(k)).sort();
      const expected = key === "advanceRun" || key === "containerStopped" ? Object.values(CONTAINER_ENV).sort() : [];
      expect(ecs, key).toEqual(expected);
    }
    const env = functionProps("advanceRun").Environment.Variables as Json;
    expect(env[CONTAINER_ENV.cluster]).toEqual({ Ref: logicalId(stack.containers.cluster) });
    expect(JSON.stringify(env[CONTAINER_ENV.stageImage])).toContain("container-assets");
    expect(env[CONTAINER_ENV.assignPublicIp]).toBe("true");
  });

  it("grants no Lambda invoke or configuration read on users' functions unless the deployer names them", () => {
    for (const key of Object.keys(stack.functions) as FunctionKey[]) {
      const lambda = grantsOf(stack.functions[key]).filter((g) => g.action.startsWith("lambda:"));
      // The API starts exports: it may invoke the export worker, and no other function.
      if (key === "api")
        expect(lambda).toEqual([
          { action: "lambda:InvokeFunction", resources: [{ "Fn::GetAtt": [fnLogicalId("exportBundle"), "Arn"] }] },
        ]);
      else expect(lambda, key).toEqual([]);
    }
  });

  /** Advance's Lambda grants in a stack synthesized (without bundling) with the given context or props. */
  function lambdaGrants(context: Json, props: ConstructorParameters<typeof StepwiseStack>[2] = {}): Json[] {
    const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8"));
    const other = new App({
      outdir: mkdtempSync(join(outdir, "named-")),
      context: { ...cdkJson.context, "aws:cdk:bundling-stacks": [], ...context },
    });
    const named = new StepwiseStack(other, "Stepwise", props);
    const roleId = named.getLogicalId(named.functions.advanceRun.role.node.defaultChild as CfnElement);
    return (Object.values(Template.fromStack(named).findResources("AWS::IAM::Policy")) as Json[])
      .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((st) => JSON.stringify(st.Action).includes("lambda:"));
  }
  const fnArn = (name: string) => ({
    "Fn::Join": [
      "",
      [
        "arn:",
        { Ref: "AWS::Partition" },
        ":lambda:",
        { Ref: "AWS::Region" },
        ":",
        { Ref: "AWS::AccountId" },
        `:function:${name}`,
      ],
    ],
  });

  it("grants invoke and configuration reads on a prefix and a list named in the CDK context", () => {
    const statements = lambdaGrants({
      [USER_FUNCTIONS_CONTEXT.prefix]: "team-",
      [USER_FUNCTIONS_CONTEXT.names]: "enrich, score",
    });
    expect(statements).toEqual([
      {
        Effect: "Allow",
        Action: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
        Resource: ["team-*", "enrich", "enrich:*", "score", "score:*"].map(fnArn),
      },
    ]);
  }, 120_000);

  it("grants on exactly the list given as a stack prop, and refuses a wildcard", () => {
    expect(lambdaGrants({}, { userFunctions: { names: ["billing-export"] } })).toEqual([
      {
        Effect: "Allow",
        Action: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
        Resource: ["billing-export", "billing-export:*"].map(fnArn),
      },
    ]);
    expect(() => lambdaGrants({ [USER_FUNCTIONS_CONTEXT.prefix]: "*" })).toThrow(/not a function name or prefix/);
  }, 120_000);
});

describe("notifications and triggers", () => {
  it("has a KMS-encrypted topic that refuses plain HTTP, and the stepwise bus", () => {
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
    template.hasResourceProperties("AWS::Events::EventBus", { Name: "stepwise" });
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  it("has an encrypted delivery queue with a dead-letter queue, both TLS only", () => {
    const queues = template.findResources("AWS::SQS::Queue");
    const delivery = Object.entries(queues).find(([id]) => id.startsWith("DeliveryQueue"));
    expect(delivery).toBeDefined();
    const [, queue] = delivery as [string, Json];
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const dlqId = queue.Properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0];
    expect(queues[dlqId]?.Properties.SqsManagedSseEnabled).toBe(true);
    for (const q of Object.values(queues) as Json[]) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = Object.values(template.findResources("AWS::SQS::QueuePolicy")) as Json[];
    const tlsOnly = policies.filter((p) =>
      (p.Properties.PolicyDocument.Statement as Json[]).some(
        (s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false",
      ),
    );
    expect(tlsOnly).toHaveLength(Object.keys(queues).length);
  });

  it("feeds the delivery queue to the delivery worker in batches, reporting failed items only", () => {
    const queueId = logicalId(stack.events.deliveryQueue);
    const mappings = Object.values(template.findResources("AWS::Lambda::EventSourceMapping")) as Json[];
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toEqual({
      FunctionName: { Ref: fnLogicalId("deliverEvents") },
      EventSourceArn: { "Fn::GetAtt": [queueId, "Arn"] },
      BatchSize: 10,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    // A message stays hidden at least six times the worker's timeout, so a retried batch never overlaps itself.
    const queue = template.toJSON().Resources[queueId] as Json;
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionProps("deliverEvents").Timeout);
  });

  it("has a schedule group and a role only EventBridge Scheduler of this account can assume", () => {
    template.resourceCountIs("AWS::Scheduler::ScheduleGroup", 1);
    template.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: "sts:AssumeRole",
            Principal: { Service: "scheduler.amazonaws.com" },
            Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
          }),
        ],
      },
    });
  });
});

describe("dashboard", () => {
  const distributionConfig = (): Json =>
    (template.toJSON().Resources[logicalId(stack.distribution)] as Json).Properties.DistributionConfig;

  it("is kept in a private, encrypted bucket that refuses plain HTTP and that only the distribution reads", () => {
    const bucketId = logicalId(stack.dashboardBucket);
    expect((template.toJSON().Resources[bucketId] as Json).Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const policy = (Object.values(template.findResources("AWS::S3::BucketPolicy")) as Json[]).find(
      (p) => p.Properties.Bucket.Ref === bucketId,
    );
    const statements = policy?.Properties.PolicyDocument.Statement as Json[];
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      ]),
    );
    const allows = statements.filter((s) => s.Effect === "Allow");
    expect(allows).toEqual([
      expect.objectContaining({
        Action: "s3:GetObject",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Condition: { StringEquals: { "AWS:SourceArn": expect.anything() } },
      }),
    ]);
    expect(JSON.stringify(allows[0]?.Condition)).toContain(logicalId(stack.distribution));
  });

  it("serves the bucket through origin access control, index.html at the root and for deep links", () => {
    const config = distributionConfig();
    expect(config.DefaultRootObject).toBe("index.html");
    // Error responses would apply to the API's behaviours too, turning its 403/404 JSON into index.html.
    expect(config.CustomErrorResponses).toBeUndefined();
    const s3Origin = (config.Origins as Json[]).find((o) => o.S3OriginConfig);
    expect(s3Origin?.OriginAccessControlId).toBeDefined();
    expect(s3Origin?.DomainName).toEqual({ "Fn::GetAtt": [logicalId(stack.dashboardBucket), "RegionalDomainName"] });
    expect(config.DefaultCacheBehavior).toMatchObject({
      TargetOriginId: s3Origin?.Id,
      ViewerProtocolPolicy: "redirect-to-https",
      AllowedMethods: ["GET", "HEAD"],
      FunctionAssociations: [{ EventType: "viewer-request", FunctionARN: expect.anything() }],
    });
    template.hasResourceProperties("AWS::CloudFront::OriginAccessControl", {
      OriginAccessControlConfig: { OriginAccessControlOriginType: "s3", SigningBehavior: "always" },
    });

    // The viewer-request function, run as CloudFront would run it.
    const fns = Object.values(template.findResources("AWS::CloudFront::Function")) as Json[];
    expect(fns).toHaveLength(1);
    expect(fns[0]?.Properties.FunctionConfig.Runtime).toBe("cloudfront-js-2.0");
    const handler = new Function(`${fns[0]?.Properties.FunctionCode}; return handler;`)() as (e: Json) => Json;
    const uriOf = (uri: string) => handler({ request: { uri, headers: {} } }).uri;
    expect(uriOf("/")).toBe("/index.html");
    expect(uriOf("/runs/run_01JTEST")).toBe("/index.html");
    expect(uriOf("/index.html")).toBe("/index.html");
    expect(uriOf("/assets/index-bu0z5yiO.js")).toBe("/assets/index-bu0z5yiO.js");
  });

  it("forwards /api/* and /hooks/* to the HTTP API uncached, with every viewer header but Host", () => {
    const config = distributionConfig();
    const apiOrigin = (config.Origins as Json[]).find((o) => o.CustomOriginConfig);
    expect(apiOrigin?.CustomOriginConfig).toEqual({
      OriginProtocolPolicy: "https-only",
      OriginSSLProtocols: ["TLSv1.2"],
    });
    expect(JSON.stringify(apiOrigin?.DomainName)).toContain(`{"Ref":"${logicalId(stack.httpApi)}"},".execute-api."`);
    const behaviors = config.CacheBehaviors as Json[];
    expect(behaviors.map((b) => b.PathPattern).sort()).toEqual(["/api/*", "/hooks/*"]);
    for (const b of behaviors) {
      expect(b).toMatchObject({
        TargetOriginId: apiOrigin?.Id,
        CachePolicyId: CachePolicy.CACHING_DISABLED.cachePolicyId,
        OriginRequestPolicyId: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
        ViewerProtocolPolicy: "https-only",
      });
      expect([...b.AllowedMethods].sort()).toEqual(["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]);
      expect(b.FunctionAssociations).toBeUndefined();
    }
    // Every contract route lives under one of the two behaviours.
    for (const spec of ROUTE_SPECS) expect(spec.path).toMatch(/^\/(api|hooks)\//);
  });

  it("adds security headers to every answer", () => {
    const config = distributionConfig();
    const policyId = logicalId(stack.dashboard.node.findChild("SecurityHeaders"));
    for (const b of [config.DefaultCacheBehavior, ...config.CacheBehaviors] as Json[]) {
      expect(b.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
    }
    const headers = (template.toJSON().Resources[policyId] as Json).Properties.ResponseHeadersPolicyConfig
      .SecurityHeadersConfig;
    expect(headers).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: "DENY", Override: true },
      ReferrerPolicy: { ReferrerPolicy: "no-referrer", Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
    });
    const csp = JSON.stringify(headers.ContentSecurityPolicy.ContentSecurityPolicy);
    for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"])
      expect(csp).toContain(directive);
    expect(csp).not.toContain("unsafe-");
  });

  it("deploys the built dashboard, pruning old files and flushing the edge caches, and outputs its URL", () => {
    template.hasResourceProperties("Custom::CDKBucketDeployment", {
      DestinationBucketName: { Ref: logicalId(stack.dashboardBucket) },
      Prune: true,
      RetainOnDelete: false,
      DistributionId: { Ref: logicalId(stack.distribution) },
      DistributionPaths: ["/*"],
    });
    // The staged asset is the build: the same files as dashboard/dist.
    const dist = join(PROJECT_ROOT, DASHBOARD_DIST);
    const staged = readdirSync(outdir)
      .map((d) => join(outdir, d))
      .filter((d) => existsSync(join(d, "index.html")));
    expect(staged).toHaveLength(1);
    const list = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();
    expect(list(staged[0] as string)).toEqual(list(dist));
    expect(readFileSync(join(staged[0] as string, "index.html"), "utf8")).toBe(
      readFileSync(join(dist, "index.html"), "utf8"),
    );

    expect((template.toJSON().Outputs as Json).DashboardUrl.Value).toEqual({
      "Fn::Join": ["", ["https://", { "Fn::GetAtt": [logicalId(stack.distribution), "DomainName"] }, "/"]],
    });
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("leaves no finding unacknowledged", () => {
    const findings = nag.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}: ${v.description}`),
    );
    expect(findings).toEqual([]);
    expect(nag.success).toBe(true);
  });

  it("gives a written reason for every acknowledgment", () => {
    const acknowledged: { path: string; id: string; reason: unknown }[] = [];
    for (const c of app.node.findAll()) {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
          acknowledged.push({ path: c.node.path, id, reason });
        }
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) {
      expect(typeof a.reason === "string" && a.reason.length >= 40, `${a.id} on ${a.path}`).toBe(true);
    }
    const ids = acknowledged.map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining([expect.stringContaining("AwsSolutions-APIG4")]));
    // CloudFront findings that need a custom domain, a web ACL or a log bucket are accepted on the distribution only.
    for (const rule of ["CFR1", "CFR2", "CFR3", "CFR4"]) {
      const on = acknowledged.filter((a) => a.id.split("::").pop() === `AwsSolutions-${rule}`).map((a) => a.path);
      expect(on, rule).toEqual([stack.distribution.node.path]);
    }
  });
});

describe("the synthesized run state machine, run locally", () => {
  type Payload = { runId: string; orgId: string; [k: string]: unknown };
  type Call = { state: string; functionName: string; payload: Payload };

  /** A task override that records the call and answers in the lambda:invoke envelope. */
  function recorder(calls: Call[], state: string, respond: (payload: Payload) => unknown) {
    return async (input: unknown): Promise<never> => {
      const { FunctionName, Payload } = input as { FunctionName: string; Payload: Payload };
      calls.push({ state, functionName: FunctionName, payload: Payload });
      return { StatusCode: 200, Payload: await respond(Payload) } as never;
    };
  }

  const ids = { runId: "run_01JTEST", orgId: "default" };
  // What Step Functions sets on every execution (aws-local-stepfunctions takes Name from the caller; it sets StartTime).
  const RUN_CONTEXT = { Task: { Token: "placeholder" }, Execution: { Name: ids.runId } } as never;

  it("advances, parks on a human step, waits, and finishes", async () => {
    const machine = new LocalStateMachine(synthesizedDefinition() as never);
    const calls: Call[] = [];
    const script = [
      { ...ids, seq: 4, next: "human", Payload: { humanTimeoutSeconds: 3600 } },
      { ...ids, seq: 7, next: "wait", waitSeconds: 30 },
      { ...ids, seq: 9, next: "done" },
    ];
    const execution = machine.run(ids, {
      context: RUN_CONTEXT,
      overrides: {
        taskResourceLocalHandlers: {
          [STATE.advance]: recorder(calls, STATE.advance, () => script.shift()),
          [STATE.awaitHuman]: recorder(calls, STATE.awaitHuman, () => ({})),
          [STATE.recordFailure]: recorder(calls, STATE.recordFailure, (p) => p),
        },
        waitTimeOverrides: { [STATE.wait]: 0 },
      },
    });
    await expect(execution.result).resolves.toEqual({ ...ids, seq: 9, next: "done" });
    expect(calls.map((c) => c.state)).toEqual([STATE.advance, STATE.awaitHuman, STATE.advance, STATE.advance]);
    expect(calls[0]).toEqual({
      state: STATE.advance,
      functionName: "advance-run",
      payload: { ...ids, execution: { name: ids.runId, startTime: expect.any(String) } },
    });
    expect(calls[1]).toEqual({
      state: STATE.awaitHuman,
      functionName: "await-human",
      payload: { ...ids, seq: 4, token: "placeholder", humanTimeoutSeconds: 3600 },
    });
  });

  it("carries on when a human step times out", async () => {
    const machine = new LocalStateMachine(synthesizedDefinition() as never);
    const calls: Call[] = [];
    const script = [
      { ...ids, seq: 4, next: "human", Payload: { humanTimeoutSeconds: 1 } },
      { ...ids, seq: 5, next: "done" },
    ];
    const execution = machine.run(ids, {
      context: RUN_CONTEXT,
      overrides: {
        taskResourceLocalHandlers: {
          [STATE.advance]: recorder(calls, STATE.advance, () => script.shift()),
          // Nobody decides: the task token is never used.
          [STATE.awaitHuman]: async () => new Promise(() => {}),
          [STATE.recordFailure]: recorder(calls, STATE.recordFailure, (p) => p),
        },
      },
    });
    await expect(execution.result).resolves.toEqual({ ...ids, seq: 5, next: "done" });
    expect(calls.map((c) => c.state)).toEqual([STATE.advance, STATE.advance]);
  });

  it("records a handler failure and fails the execution", async () => {
    const machine = new LocalStateMachine(synthesizedDefinition() as never);
    const calls: Call[] = [];
    const execution = machine.run(ids, {
      context: RUN_CONTEXT,
      overrides: {
        taskResourceLocalHandlers: {
          [STATE.advance]: async () => {
            throw Object.assign(new Error("disk full"), { name: "TaskCrashed" });
          },
          [STATE.recordFailure]: recorder(calls, STATE.recordFailure, (p) => p),
        },
      },
    });
    await expect(execution.result).rejects.toThrow(/The run failed/);
    expect(calls).toEqual([
      {
        state: STATE.recordFailure,
        functionName: "record-failure",
        payload: { ...ids, error: { Error: "TaskCrashed", Cause: "disk full" } },
      },
    ]);
  });
});

describe("the synthesized job-run state machine, run locally", () => {
  type Call = { state: string; functionName: string; payload: Json };
  const ids = { jobRunId: "jr_01JTEST", orgId: "default" };

  const machine = () => new LocalStateMachine(synthesizedDefinition(stack.jobStateMachine, JOB_MACHINE_NAMES) as never);

  /** RunNext's override: records the call; its answer stands for what the task token is completed with. */
  function runNext(calls: Call[], answers: unknown[]) {
    return async (input: unknown): Promise<never> => {
      const { FunctionName, Payload } = input as { FunctionName: string; Payload: Json };
      calls.push({ state: JOB_STATE.runNext, functionName: FunctionName, payload: Payload });
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer as never;
    };
  }

  it("runs the job's workflows one after another, then succeeds", async () => {
    const calls: Call[] = [];
    const execution = machine().run(ids, {
      context: { Task: { Token: "placeholder" } },
      overrides: {
        taskResourceLocalHandlers: {
          [JOB_STATE.runNext]: runNext(calls, [{ next: "continue" }, { next: "continue" }, { next: "done" }]),
        },
      },
    });
    await expect(execution.result).resolves.toMatchObject(ids);
    expect(calls).toHaveLength(3);
    for (const c of calls) {
      expect(c).toEqual({
        state: JOB_STATE.runNext,
        functionName: "run-next",
        payload: { ...ids, token: "placeholder" },
      });
    }
  });

  it("hands a long wait to a fresh execution before the history cap (continue as new)", async () => {
    const calls: Call[] = [];
    const started: Json[] = [];
    const definition = buildJobRunStateMachine(
      { runNext: "run-next", recordFailure: "record-job-failure" },
      { recheckSeconds: 1, maxRearms: 2 },
    );
    const jobArn = "arn:aws:states:eu-west-1:123456789012:stateMachine:Stepwise-job";
    const execution = new LocalStateMachine(definition as never).run(ids, {
      context: { Task: { Token: "placeholder" }, StateMachine: { Id: jobArn }, Execution: { Id: `${jobArn}:jr` } },
      overrides: {
        taskResourceLocalHandlers: {
          // The workflow run never ends: every wait times out and re-arms.
          [JOB_STATE.runNext]: async (input: unknown): Promise<never> => {
            calls.push({ state: JOB_STATE.runNext, functionName: "run-next", payload: input as Json });
            return new Promise(() => {});
          },
          [JOB_STATE.continueAsNew]: async (input: unknown): Promise<never> => {
            started.push(input as Json);
            return {} as never;
          },
        },
      },
    });
    await expect(execution.result).resolves.toBeDefined();
    // The first wait and two re-arms, then the hand-over; the fresh execution starts from the ids alone.
    expect(calls).toHaveLength(3);
    expect(started).toHaveLength(1);
    expect(started[0]?.StateMachineArn).toBe(jobArn);
    expect(started[0]?.Input).toEqual({ ...ids, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: `${jobArn}:jr` });
    expect(String(started[0]?.Name)).toMatch(/^[0-9a-f-]{36}$/);
  }, 30_000);

  it("fails the execution when a workflow run halted the job run", async () => {
    const calls: Call[] = [];
    const execution = machine().run(ids, {
      context: { Task: { Token: "placeholder" } },
      overrides: { taskResourceLocalHandlers: { [JOB_STATE.runNext]: runNext(calls, [{ next: "failed" }]) } },
    });
    await expect(execution.result).rejects.toThrow(/The job run failed/);
    expect(calls).toHaveLength(1);
  });

  it("records a handler failure on the job run and fails the execution", async () => {
    const calls: Call[] = [];
    const execution = machine().run(ids, {
      context: { Task: { Token: "placeholder" } },
      overrides: {
        taskResourceLocalHandlers: {
          [JOB_STATE.runNext]: runNext(calls, [Object.assign(new Error("table gone"), { name: "EngineCrashed" })]),
          [JOB_STATE.recordFailure]: async (input: unknown): Promise<never> => {
            const { FunctionName, Payload } = input as { FunctionName: string; Payload: Json };
            calls.push({ state: JOB_STATE.recordFailure, functionName: FunctionName, payload: Payload });
            return { StatusCode: 200, Payload: ids } as never;
          },
        },
      },
    });
    await expect(execution.result).rejects.toThrow(/The job run failed/);
    expect(calls.map((c) => c.state)).toEqual([JOB_STATE.runNext, JOB_STATE.recordFailure]);
    expect(calls[1]).toEqual({
      state: JOB_STATE.recordFailure,
      functionName: "record-job-failure",
      payload: { ...ids, error: { Error: "EngineCrashed", Cause: "table gone" } },
    });
  });
});

describe.skipIf(!existsSync(new URL("../../local/embedded.ts", import.meta.url)))(
  "the synthesized state machine in the embedded service",
  () => {
    type Server = Awaited<ReturnType<typeof import("../../local/embedded.ts").startEmbedded>>;
    let server: Server;
    let dataDir: string;

    beforeAll(async () => {
      const { startEmbedded } = await import("../../local/embedded.ts");
      dataDir = mkdtempSync(join(tmpdir(), "stepwise-infra-embedded-"));
      server = await startEmbedded({
        dataDir,
        port: 0,
        apiKey: "test-platform-key-0123456789",
        examplesDir: null,
        // The ASL taken from the template, not the one the embedded mode builds itself.
        stateMachineDefinition: synthesizedDefinition(),
      });
    });

    afterAll(async () => {
      await server?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    async function call(method: string, path: string, body?: unknown, key = server.apiKey) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    }

    async function pollRun(runId: string, until: (status: string) => boolean): Promise<Json> {
      let run: Json = {};
      const deadline = Date.now() + 45_000;
      while (Date.now() < deadline) {
        run = (await call("GET", `/api/runs/${runId}`)).body;
        if (until(run.status)) return run;
        await new Promise((r) => setTimeout(r, 100));
      }
      return run;
    }

    const terminal = (status: string) => ["succeeded", "no_action", "failed", "cancelled"].includes(status);

    async function putAndTrigger(definition: Json): Promise<string> {
      const put = await call("PUT", `/api/workflows/${definition.name}`, definition);
      expect(put.status, JSON.stringify(put.body)).toBe(201);
      const trigger = await call("POST", `/api/workflows/${definition.name}/trigger`, { parameters: {} });
      expect(trigger.status, JSON.stringify(trigger.body)).toBe(202);
      return trigger.body.runId as string;
    }

    const greet = {
      id: "greet",
      type: "script",
      runtime: "node",
      code: "export default async () => ({ greeting: 'hello' })",
    };
    const echo = {
      id: "echo",
      type: "command",
      command: 'echo "heard=$GREETING" >> "$STEPWISE_OUTPUT"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Stepwise context reference, not a JS template.
      env: { GREETING: "${context.greeting}" },
    };

    it("runs a two-node workflow over HTTP to succeeded", async () => {
      const runId = await putAndTrigger({ name: "infra-smoke", nodes: [greet, { ...echo, needs: ["greet"] }] });
      const run = await pollRun(runId, terminal);
      expect(run.status, JSON.stringify(run)).toBe("succeeded");
      expect(run.context).toMatchObject({
        greeting: { type: "string", value: "hello" },
        heard: { type: "string", value: "hello" },
      });
    });

    it("parks a run on an approval (AwaitHuman with its task token) and resumes it on the decision", async () => {
      const runId = await putAndTrigger({
        name: "infra-approval",
        nodes: [
          greet,
          { id: "sign-off", type: "approval", needs: ["greet"], approvers: { count: 1 }, timeoutSeconds: 3600 },
          { ...echo, needs: ["sign-off"] },
        ],
      });
      const parked = await pollRun(runId, (s) => s !== "queued" && s !== "running");
      expect(parked.status, JSON.stringify(parked)).toBe("awaiting_approval");
      expect(parked.currentStateName).toBe("sign-off");

      // Whoever started the run may not approve it: a second person, with an approver key, decides.
      const key = await call("POST", "/api/keys", { name: "infra-approver", role: "approver" });
      expect(key.status, JSON.stringify(key.body)).toBe(201);
      const decision = await call(
        "POST",
        `/api/runs/${runId}/approvals/sign-off`,
        { decision: "approve", comment: "looks right" },
        key.body.key,
      );
      expect(decision.status, JSON.stringify(decision.body)).toBe(200);

      const run = await pollRun(runId, terminal);
      expect(run.status, JSON.stringify(run)).toBe("succeeded");
      expect(run.context).toMatchObject({ heard: { type: "string", value: "hello" } });
    });
  },
);
