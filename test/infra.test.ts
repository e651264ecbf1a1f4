import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement, type PolicyValidationPluginReport, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { StateMachine as LocalStateMachine } from "aws-local-stepfunctions";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_SPECS } from "../functions/http/route-specs.ts";
import type { StepwiseFunction } from "../infra/lambda-function.ts";
import { StepwiseStack } from "../infra/stepwise-stack.ts";
import { createTableInput, TTL_ATTRIBUTE } from "../shared/adapters/dynamo-table.ts";
import { buildRunStateMachine, STATE } from "../shared/state-machine/run-state-machine.ts";

// One synthesis (with real esbuild bundling of the five entries) for the whole file.
let outdir: string;
let app: App;
let stack: StepwiseStack;
let template: Template;
let nag: PolicyValidationPluginReport;

type Json = Record<string, any>;
type FunctionKey = keyof StepwiseStack["functions"];

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "stepwise-infra-"));
  // The context `cdk synth` would pass: cdk.json's, plus asset metadata so that the bundles can be found.
  const cdkJson = JSON.parse(readFileSync(new URL("../cdk.json", import.meta.url), "utf8"));
  app = new App({ outdir, context: { ...cdkJson.context, "aws:cdk:enable-asset-metadata": true } });
  stack = new StepwiseStack(app, "Stepwise");
  template = Template.fromStack(stack);
  nag = new AwsSolutionsChecks().validateScope(app);
}, 180_000); // esbuild bundles five functions; generous for a loaded CI machine

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

/**
 * The state machine exactly as synthesized: its DefinitionString is an Fn::Join around Fn::GetAtt tokens of the
 * function ARNs; the tokens become plain function names so the ASL can run outside AWS.
 */
function synthesizedDefinition(): Json {
  const machines = Object.values(template.findResources("AWS::StepFunctions::StateMachine")) as Json[];
  expect(machines).toHaveLength(1);
  const body = machines[0]?.Properties.DefinitionString;
  if (typeof body === "string") return JSON.parse(body);
  const names = new Map<string, string>([
    [fnLogicalId("advanceRun"), "advance-run"],
    [fnLogicalId("awaitHuman"), "await-human"],
    [fnLogicalId("recordFailure"), "record-failure"],
  ]);
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
});

describe("HTTP API", () => {
  it("has one route per contract route, all proxied to the api function without an authorizer", () => {
    const routes = Object.values(template.findResources("AWS::ApiGatewayV2::Route")) as Json[];
    expect(routes).toHaveLength(ROUTE_SPECS.length);
    const keys = routes.map((r) => r.Properties.RouteKey as string).sort();
    expect(keys).toEqual(ROUTE_SPECS.map((s) => `${s.method} ${s.path}`).sort());
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
      expect.arrayContaining(["ApiUrl", "TableName", "BucketName", "RunStateMachineArn"]),
    );
  });
});

describe("functions", () => {
  it("run on nodejs22.x, arm64, traced, bundled as ESM from the repository's entries", () => {
    const all = Object.values(template.findResources("AWS::Lambda::Function")) as Json[];
    expect(all).toHaveLength(5);
    for (const f of all) {
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
    }
  });

  it("size each function for its work", () => {
    expect(functionProps("advanceRun")).toMatchObject({
      MemorySize: 1024,
      Timeout: 900,
      EphemeralStorage: { Size: 2048 },
    });
    expect(functionProps("api")).toMatchObject({ MemorySize: 512, Timeout: 29 });
    for (const key of ["awaitHuman", "recordFailure", "reconcileExecution"] as const) {
      const props = functionProps(key);
      expect(props.MemorySize).toBe(256);
      expect(props.Timeout).toBeGreaterThanOrEqual(30);
      expect(props.Timeout).toBeLessThanOrEqual(60);
    }
  });

  it("get the environment that loadConfig reads, with the platform key hash from a parameter", () => {
    const env = (key: FunctionKey) => functionProps(key).Environment.Variables as Json;
    for (const key of Object.keys(stack.functions) as FunctionKey[]) {
      // functions/cloud-deps.ts wires the same dependencies in every function and requires these three.
      expect(Object.keys(env(key))).toEqual(
        expect.arrayContaining(["TABLE_NAME", "BUCKET_NAME", "RUN_STATE_MACHINE_ARN"]),
      );
    }
    expect(Object.keys(env("api")).sort()).toEqual(
      [
        "BUCKET_NAME",
        "DELIVERY_QUEUE_URL",
        "EVENTS_TOPIC_ARN",
        "EVENT_BUS_NAME",
        "NODE_OPTIONS",
        "PLATFORM_KEY_HASH",
        "RUN_STATE_MACHINE_ARN",
        "SCHEDULER_ROLE_ARN",
        "SCHEDULE_GROUP_NAME",
        "SECRETS_KMS_KEY_ID",
        "TABLE_NAME",
      ].sort(),
    );
    expect(env("api").PLATFORM_KEY_HASH).toEqual({ Ref: "PlatformKeyHash" });
    expect(env("advanceRun").NODE_OPTIONS).toBe("--enable-source-maps");
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

  it("lets only api, await-human and reconcile steer executions, and only of this machine", () => {
    const steering = [
      "states:DescribeExecution",
      "states:SendTaskFailure",
      "states:SendTaskSuccess",
      "states:StartExecution",
      "states:StopExecution",
    ];
    for (const key of ["api", "awaitHuman", "reconcileExecution"] as const) {
      const grants = grantsOf(stack.functions[key]).filter((g) => g.action.startsWith("states:"));
      expect(grants.map((g) => g.action).sort()).toEqual(steering);
      for (const g of grants) {
        expect(JSON.stringify(g.resources)).toMatch(/:stateMachine:Stepwise-run"|:execution:Stepwise-run:\*"/);
      }
    }
    for (const key of ["advanceRun", "recordFailure"] as const) {
      expect(actionsOf(stack.functions[key]).filter((a) => a.startsWith("states:"))).toEqual([]);
    }
  });

  it("gives objects, the secrets key and the notifiers to api and advance-run only", () => {
    const privileged = [
      "s3:GetObject",
      "s3:PutObject",
      "kms:Encrypt",
      "kms:Decrypt",
      "sns:Publish",
      "events:PutEvents",
    ];
    for (const key of ["api", "advanceRun"] as const) {
      expect(actionsOf(stack.functions[key])).toEqual(expect.arrayContaining([...privileged, "sqs:SendMessage"]));
    }
    for (const key of ["awaitHuman", "recordFailure"] as const) {
      const actions = actionsOf(stack.functions[key]);
      for (const a of privileged) expect(actions).not.toContain(a);
    }
    // reconcile may send to its own dead-letter queue, nothing else outside the table and the machine.
    const reconcile = actionsOf(stack.functions.reconcileExecution);
    for (const a of privileged) expect(reconcile).not.toContain(a);
  });

  it("lets the state machine invoke exactly its three functions", () => {
    const machineRole = logicalId(stack.stateMachine.role);
    const policies = (Object.values(template.findResources("AWS::IAM::Policy")) as Json[]).filter((p) =>
      p.Properties.Roles.some((r: Json) => r.Ref === machineRole),
    );
    const invoke = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((s) => [s.Action].flat().includes("lambda:InvokeFunction"));
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Resource).toEqual(
      (["advanceRun", "awaitHuman", "recordFailure"] as const).map((k) => ({ "Fn::GetAtt": [fnLogicalId(k), "Arn"] })),
    );
  });
});

describe("state machine", () => {
  it("is a Standard machine that logs every event without execution data and traces with X-Ray", () => {
    template.hasResourceProperties("AWS::StepFunctions::StateMachine", {
      StateMachineType: "STANDARD",
      StateMachineName: "Stepwise-run",
      LoggingConfiguration: {
        Level: "ALL",
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
      TracingConfiguration: { Enabled: true },
    });
  });

  it("carries the shared run definition unchanged", () => {
    expect(synthesizedDefinition()).toEqual(
      buildRunStateMachine({ advance: "advance-run", awaitHuman: "await-human", recordFailure: "record-failure" }),
    );
  });

  it("hands executions that died outside the handlers to the reconciler", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: {
          stateMachineArn: [{ Ref: logicalId(stack.stateMachine) }],
          status: ["FAILED", "TIMED_OUT", "ABORTED"],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [fnLogicalId("reconcileExecution"), "Arn"] },
          DeadLetterConfig: { Arn: Match.anyValue() },
          RetryPolicy: Match.anyValue(),
        }),
      ],
    });
    expect(functionProps("reconcileExecution").DeadLetterConfig).toBeDefined();
  });
});

describe("notifications", () => {
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
    expect(acknowledged.map((a) => a.id)).toEqual(
      expect.arrayContaining([expect.stringContaining("AwsSolutions-APIG4")]),
    );
  });
});

describe("the synthesized state machine, run locally", () => {
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

  it("advances, parks on a human step, waits, and finishes", async () => {
    const machine = new LocalStateMachine(synthesizedDefinition() as never);
    const calls: Call[] = [];
    const script = [
      { ...ids, seq: 4, next: "human", Payload: { humanTimeoutSeconds: 3600 } },
      { ...ids, seq: 7, next: "wait", waitSeconds: 30 },
      { ...ids, seq: 9, next: "done" },
    ];
    const execution = machine.run(ids, {
      context: { Task: { Token: "placeholder" } },
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
    expect(calls[0]).toEqual({ state: STATE.advance, functionName: "advance-run", payload: ids });
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
      context: { Task: { Token: "placeholder" } },
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
      context: { Task: { Token: "placeholder" } },
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

describe.skipIf(!existsSync(new URL("../local/embedded.ts", import.meta.url)))(
  "the synthesized state machine in the embedded service",
  () => {
    type Server = Awaited<ReturnType<typeof import("../local/embedded.ts").startEmbedded>>;
    let server: Server;
    let dataDir: string;

    beforeAll(async () => {
      const { startEmbedded } = await import("../local/embedded.ts");
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
