// The stack's resources created in moto from the synthesized template, each function's environment resolved from
// the template exactly as CloudFormation would set it, and each function's entry module imported with that
// environment (a fresh module graph per function: every Lambda builds its own adapters from its own env at cold start).
import { createHash } from "node:crypto";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { CreateClusterCommand, ECSClient } from "@aws-sdk/client-ecs";
import { CreateEventBusCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateScheduleGroupCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { CreateStateMachineCommand, SFNClient } from "@aws-sdk/client-sfn";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { vi } from "vitest";
import { PROJECT_ROOT } from "../../../infra/lambda-function.ts";
import type { FunctionName, StepwiseStack } from "../../../infra/stepwise-stack.ts";
import { ENV } from "../../../shared/config.ts";
import type { Json } from "./synth.ts";

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const PLATFORM_KEY = "cloud-suite-platform-key-0123456789";

/** The SDK's view of moto: endpoint, region and test credentials, as the Lambda runtime would provide them. */
export function sdkEnvironment(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

type Values = Record<string, { ref: string; attrs: Record<string, string> }>;

const PSEUDO: Record<string, string> = {
  "AWS::Region": REGION,
  "AWS::AccountId": ACCOUNT,
  "AWS::Partition": "aws",
  "AWS::URLSuffix": "amazonaws.com",
  "AWS::StackName": "Stepwise",
};

/** Evaluates the intrinsic functions CDK emits (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub). */
export function resolve(value: unknown, values: Values): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, values));
  if (!value || typeof value !== "object") return value;
  const o = value as Json;
  if (typeof o["Fn::Sub"] === "string") {
    // The plain form CDK emits for asset URIs: ${Pseudo::Param} and ${LogicalId}.
    return (o["Fn::Sub"] as string).replace(/\$\{([^}]+)\}/g, (_, name: string) =>
      String(resolve({ Ref: name }, values)),
    );
  }
  if (o.Ref !== undefined) {
    const v = PSEUDO[o.Ref] ?? values[o.Ref]?.ref;
    if (v === undefined) throw new Error(`no value for Ref ${o.Ref}`);
    return v;
  }
  if (o["Fn::GetAtt"]) {
    const [id, attr] = o["Fn::GetAtt"] as [string, string];
    const v = values[id]?.attrs[attr];
    if (v === undefined) throw new Error(`no value for GetAtt ${id}.${attr}`);
    return v;
  }
  if (o["Fn::Join"]) {
    const [d, parts] = o["Fn::Join"] as [string, unknown[]];
    return parts.map((p) => resolve(p, values)).join(d);
  }
  if (o["Fn::Split"]) {
    const [d, s] = o["Fn::Split"] as [string, unknown];
    return String(resolve(s, values)).split(d);
  }
  if (o["Fn::Select"]) {
    const [i, list] = o["Fn::Select"] as [number, unknown];
    return (resolve(list, values) as unknown[])[i];
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, values)]));
}

export interface CloudStack {
  template: Json;
  /** Each function's environment, resolved from the template (plus the SDK's). */
  environments: Record<FunctionName, Record<string, string>>;
  /** The function's name in moto's world (its logical id): what the ASL's Resource ARNs end in. */
  functionNames: Record<FunctionName, string>;
  runMachineArn: string;
  /** The run machine's Express twin (runs with no human step, long wait or container node). */
  runExpressMachineArn: string;
  jobMachineArn: string;
  /** The containers construct's ECS cluster, created in moto. */
  ecsClusterArn: string;
  queueUrls: Record<string, string>;
  topicArn: string;
  busName: string;
  tableName: string;
  bucketName: string;
}

/** Creates the template's stateful and messaging resources and both state machines in moto. */
export async function createCloudStack(endpoint: string, stack: StepwiseStack, template: Json): Promise<CloudStack> {
  const cfg = { endpoint, region: REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
  const resources = template.Resources as Record<string, Json>;
  const values: Values = {};
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;

  values.PlatformKeyHash = {
    ref: `sha256:${createHash("sha256").update(PLATFORM_KEY).digest("hex")}`,
    attrs: {},
  };
  // Names of the things nobody creates here (roles, log groups): any value of the right shape.
  for (const [id] of byType("AWS::IAM::Role"))
    values[id] = { ref: id, attrs: { Arn: `arn:aws:iam::${ACCOUNT}:role/${id}` } };
  for (const [id] of byType("AWS::Lambda::Function"))
    values[id] = { ref: id, attrs: { Arn: arn("lambda", `function:${id}`) } };

  const ddb = new DynamoDBClient(cfg);
  const [tableId, table] = byType("AWS::DynamoDB::Table")[0] as [string, Json];
  const tableName = "stepwise-cloud-suite";
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: table.Properties.KeySchema,
      AttributeDefinitions: table.Properties.AttributeDefinitions,
      GlobalSecondaryIndexes: table.Properties.GlobalSecondaryIndexes,
      BillingMode: table.Properties.BillingMode,
    }),
  );
  await ddb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: table.Properties.TimeToLiveSpecification,
    }),
  );
  values[tableId] = { ref: tableName, attrs: { Arn: arn("dynamodb", `table/${tableName}`) } };

  const bucketId = stack.getLogicalId(stack.bucket.node.defaultChild as never);
  const bucketName = "stepwise-cloud-suite";
  await new S3Client({ ...cfg, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: bucketName }));
  values[bucketId] = { ref: bucketName, attrs: { Arn: `arn:aws:s3:::${bucketName}` } };
  for (const [id] of byType("AWS::S3::Bucket"))
    values[id] ??= { ref: id.toLowerCase(), attrs: { Arn: `arn:aws:s3:::${id}` } };

  const kms = new KMSClient(cfg);
  for (const [id] of byType("AWS::KMS::Key")) {
    const key = await kms.send(new CreateKeyCommand({ Description: id }));
    values[id] = { ref: key.KeyMetadata?.KeyId as string, attrs: { Arn: key.KeyMetadata?.Arn as string } };
  }
  const sns = new SNSClient(cfg);
  let topicArn = "";
  for (const [id] of byType("AWS::SNS::Topic")) {
    topicArn = (await sns.send(new CreateTopicCommand({ Name: id }))).TopicArn as string;
    values[id] = { ref: topicArn, attrs: { TopicArn: topicArn } };
  }
  const events = new EventBridgeClient(cfg);
  let busName = "";
  for (const [id, r] of byType("AWS::Events::EventBus")) {
    busName = r.Properties.Name;
    const bus = await events.send(new CreateEventBusCommand({ Name: busName }));
    values[id] = { ref: busName, attrs: { Arn: bus.EventBusArn as string, Name: busName } };
  }
  const sqs = new SQSClient(cfg);
  const queueUrls: Record<string, string> = {};
  for (const [id] of byType("AWS::SQS::Queue")) {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: id }))).QueueUrl as string;
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
    queueUrls[id] = url;
    values[id] = { ref: url, attrs: { Arn: attrs.Attributes?.QueueArn as string, QueueName: id } };
  }
  const scheduler = new SchedulerClient(cfg);
  for (const [id, r] of byType("AWS::Scheduler::ScheduleGroup")) {
    const group = await scheduler.send(new CreateScheduleGroupCommand({ Name: r.Properties.Name }));
    values[id] = { ref: r.Properties.Name, attrs: { Arn: group.ScheduleGroupArn as string } };
  }

  const ecs = new ECSClient(cfg);
  let ecsClusterArn = "";
  for (const [id] of byType("AWS::ECS::Cluster")) {
    const cluster = await ecs.send(new CreateClusterCommand({ clusterName: id }));
    ecsClusterArn = cluster.cluster?.clusterArn as string;
    values[id] = { ref: id, attrs: { Arn: ecsClusterArn } };
  }
  // What nobody creates here (log groups, the VPC's subnets, security groups): names and ids of the right shape.
  for (const [id, r] of Object.entries(resources)) {
    const service = String(r.Type).split("::")[1]?.toLowerCase() ?? "unknown";
    values[id] ??= { ref: id, attrs: { Arn: arn(service, id), GroupId: `sg-${id}` } };
  }

  const sfn = new SFNClient(cfg);
  const machineArns: Record<string, string> = {};
  for (const [id, r] of byType("AWS::StepFunctions::StateMachine")) {
    const definition = resolve(r.Properties.DefinitionString, values) as string;
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: r.Properties.StateMachineName,
        definition,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${id}`,
        type: r.Properties.StateMachineType,
      }),
    );
    machineArns[id] = created.stateMachineArn as string;
    values[id] = { ref: created.stateMachineArn as string, attrs: { Name: r.Properties.StateMachineName } };
  }

  const environments = {} as CloudStack["environments"];
  const functionNames = {} as CloudStack["functionNames"];
  for (const [key, f] of Object.entries(stack.functions) as [
    FunctionName,
    StepwiseStack["functions"][FunctionName],
  ][]) {
    const id = stack.getLogicalId(f.fn.node.defaultChild as never);
    functionNames[key] = id;
    environments[key] = {
      ...sdkEnvironment(endpoint),
      ...(resolve(resources[id]?.Properties.Environment.Variables, values) as Record<string, string>),
    };
  }
  const machineId = (m: StepwiseStack["stateMachine"]) => stack.getLogicalId(m.node.defaultChild as never);
  return {
    template,
    environments,
    functionNames,
    runMachineArn: machineArns[machineId(stack.stateMachine)] as string,
    runExpressMachineArn: machineArns[machineId(stack.runEngine.expressStateMachine)] as string,
    jobMachineArn: machineArns[machineId(stack.jobStateMachine)] as string,
    ecsClusterArn,
    queueUrls,
    topicArn,
    busName,
    tableName,
    bucketName,
  };
}

/** A Lambda handler as AWS calls it: the event and a context. */
export type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * Imports a function's entry module with exactly its environment, in a module graph of its own, and returns its
 * `handler` export. The environment is restored afterwards; the function keeps what it read at its cold start.
 */
export async function loadHandler(stack: StepwiseStack, cloud: CloudStack, key: FunctionName): Promise<LambdaHandler> {
  const saved = { ...process.env };
  for (const name of Object.values(ENV)) delete process.env[name];
  Object.assign(process.env, cloud.environments[key]);
  try {
    vi.resetModules();
    const mod = (await import(join(PROJECT_ROOT, stack.functions[key].entry))) as { handler: LambdaHandler };
    return mod.handler;
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    // The SDK reads the endpoint and credentials at call time too: keep them for every function.
    Object.assign(process.env, sdkEnvironment(cloud.environments[key].AWS_ENDPOINT_URL as string));
  }
}

/** A Lambda context with the fields the handlers and middy read. */
export function lambdaContext(functionName: string): Json {
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 32),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "cloud-suite",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
