import { z } from "zod";

/** The environment variables of the cloud functions: `infra/` sets them by these names, the schemas below read them. */
export const ENV = {
  tableName: "TABLE_NAME",
  bucketName: "BUCKET_NAME",
  runStateMachineArn: "RUN_STATE_MACHINE_ARN",
  jobStateMachineArn: "JOB_STATE_MACHINE_ARN",
  platformKeyHash: "PLATFORM_KEY_HASH",
  secretsKmsKeyId: "SECRETS_KMS_KEY_ID",
  eventsTopicArn: "EVENTS_TOPIC_ARN",
  eventBusName: "EVENT_BUS_NAME",
  deliveryQueueUrl: "DELIVERY_QUEUE_URL",
  schedulerRoleArn: "SCHEDULER_ROLE_ARN",
  scheduleTargetArn: "SCHEDULE_TARGET_ARN",
  scheduleGroupName: "SCHEDULE_GROUP_NAME",
  taskWorkDir: "TASK_WORK_DIR",
  cursorSecret: "CURSOR_SECRET",
  runExpressStateMachineArn: "RUN_EXPRESS_STATE_MACHINE_ARN",
  ecsCluster: "STEPWISE_ECS_CLUSTER",
  ecsTaskRoleArn: "STEPWISE_ECS_TASK_ROLE_ARN",
  ecsExecutionRoleArn: "STEPWISE_ECS_EXECUTION_ROLE_ARN",
  ecsLogGroup: "STEPWISE_ECS_LOG_GROUP",
  ecsStageImage: "STEPWISE_ECS_STAGE_IMAGE",
  ecsSubnets: "STEPWISE_ECS_SUBNETS",
  ecsSecurityGroups: "STEPWISE_ECS_SECURITY_GROUPS",
  ecsAssignPublicIp: "STEPWISE_ECS_ASSIGN_PUBLIC_IP",
  awsRegion: "AWS_REGION",
  subscriptionsAllowPrivateUrls: "SUBSCRIPTIONS_ALLOW_PRIVATE_URLS",
  serviceName: "POWERTOOLS_SERVICE_NAME",
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
  logLevel: "POWERTOOLS_LOG_LEVEL",
  exportFunctionName: "EXPORT_FUNCTION_NAME",
} as const;

/** What the stack sets on every function for Powertools (service and namespace name the logs, traces and metrics). */
export const OBSERVABILITY_ENV = {
  serviceName: ENV.serviceName,
  metricsNamespace: ENV.metricsNamespace,
  logLevel: ENV.logLevel,
} as const;

/** Environment names the containers construct sets on the engine's functions (read into EcsSettings below). */
export const CONTAINER_ENV = {
  cluster: ENV.ecsCluster,
  taskRoleArn: ENV.ecsTaskRoleArn,
  executionRoleArn: ENV.ecsExecutionRoleArn,
  logGroup: ENV.ecsLogGroup,
  stageImage: ENV.ecsStageImage,
  subnets: ENV.ecsSubnets,
  securityGroups: ENV.ecsSecurityGroups,
  assignPublicIp: ENV.ecsAssignPublicIp,
} as const;

const required = z.string().min(1);

/** What every function needs: the table, the bucket, and the run machine (every status change may start a run). */
const BaseEnv = z.object({
  [ENV.tableName]: required,
  [ENV.bucketName]: required,
  [ENV.runStateMachineArn]: required,
  [ENV.taskWorkDir]: required.default("/tmp/stepwise-tasks"),
  /** Signs list cursors; by default derived from the platform key hash, so no deployment setting is needed. */
  [ENV.cursorSecret]: z.string().min(16).optional(),
  /** Container nodes in ECS: set together by the containers construct, absent when the stack has none. */
  [ENV.ecsCluster]: z.string().min(1).optional(),
  [ENV.ecsTaskRoleArn]: z.string().min(1).optional(),
  [ENV.ecsExecutionRoleArn]: z.string().min(1).optional(),
  [ENV.ecsLogGroup]: z.string().min(1).optional(),
  [ENV.ecsStageImage]: z.string().min(1).optional(),
  [ENV.ecsSubnets]: z.string().min(1).optional(),
  [ENV.ecsSecurityGroups]: z.string().min(1).optional(),
  [ENV.ecsAssignPublicIp]: z.enum(["true", "false"]).optional(),
  [ENV.awsRegion]: z.string().min(1).default("us-east-1"),
  /** The Express twin of the run state machine (shared/engine/lane.ts); without it every run is Standard. */
  [ENV.runExpressStateMachineArn]: required.optional(),
  /** The `service` of every log line, trace and metric (Powertools); one name for the whole deployment. */
  [ENV.serviceName]: required.default("stepwise"),
  /** The CloudWatch namespace of the cost metrics. */
  [ENV.metricsNamespace]: required.default("Stepwise"),
  [ENV.logLevel]: z.enum(["DEBUG", "INFO", "WARN", "ERROR", "SILENT"]).default("INFO"),
});
/** Functions that change run or job-run statuses: each change is published and may start a buffered firing. */
const StatusEnv = BaseEnv.extend({
  [ENV.jobStateMachineArn]: required,
  [ENV.eventsTopicArn]: required,
  [ENV.eventBusName]: required,
  [ENV.deliveryQueueUrl]: required,
});
const SecretsEnv = { [ENV.secretsKmsKeyId]: required };
/** "true" lets subscriptions target private and loopback ranges (never link-local or metadata addresses). */
const UrlPolicyEnv = { [ENV.subscriptionsAllowPrivateUrls]: z.enum(["true", "false"]).optional() };

/** Each cloud function's environment schema: it requires exactly what its construct in `infra/` sets. */
export const FUNCTION_ENV = {
  api: StatusEnv.extend({
    ...SecretsEnv,
    /** sha256:<hex> of the platform (bootstrap) key; the key itself is never deployed. */
    [ENV.platformKeyHash]: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/)
      .optional(),
    [ENV.schedulerRoleArn]: required,
    [ENV.scheduleTargetArn]: required,
    [ENV.scheduleGroupName]: required,
    /** The function that builds evidence bundles, invoked asynchronously by POST /api/runs/{id}/exports. */
    [ENV.exportFunctionName]: required,
    ...UrlPolicyEnv,
  }),
  advanceRun: StatusEnv.extend(SecretsEnv),
  awaitHuman: BaseEnv,
  recordFailure: StatusEnv,
  reconcileExecution: StatusEnv,
  scheduleTrigger: StatusEnv,
  deliverEvents: BaseEnv.extend({ ...SecretsEnv, ...UrlPolicyEnv, [ENV.deliveryQueueUrl]: required }),
  runNext: StatusEnv,
  recordJobFailure: StatusEnv,
  reconcileJob: StatusEnv,
  retentionSweep: BaseEnv,
  /**
   * The ECS STOPPED wake-up: it completes container attempts, so it needs the ECS settings, and the secrets key to
   * redact the run's secrets from what the container wrote.
   */
  containerStopped: StatusEnv.extend({ ...SecretsEnv, [ENV.ecsCluster]: required }),
  /** Builds one evidence bundle (invoked asynchronously by the API): it reads records and objects, writes exports. */
  exportBundle: BaseEnv,
  /** The schedule that reconciles dead Express runs: a reconciler, with the reconciler's environment. */
  sweepExpressRuns: StatusEnv,
} as const;

export type CloudFunction = keyof typeof FUNCTION_ENV;

/** Any function's configuration: what its schema did not require is absent. */
export type CloudConfig = z.infer<typeof BaseEnv> &
  Partial<z.infer<typeof StatusEnv>> &
  Partial<Record<Exclude<(typeof ENV)[keyof typeof ENV], keyof z.infer<typeof StatusEnv>>, string>>;

/** Environment of `npm start` (embedded mode). */
const LocalEnvSchema = z.object({
  STEPWISE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  STEPWISE_HOST: z.string().default("127.0.0.1"),
  STEPWISE_DATA_DIR: z.string().min(1).default(".stepwise"),
  STEPWISE_API_KEY: z.string().min(16).optional(),
  STEPWISE_EXAMPLES_DIR: z.string().default("examples"),
  /** How the SDK clients reach the embedded emulators (local/emulator-transport.ts). */
  STEPWISE_EMULATOR_TRANSPORT: z.enum(["in-process", "tcp"]).default("in-process"),
  /** Who spawns command and script tasks (shared/adapters/process/task-spawner.ts). */
  STEPWISE_TASK_SPAWN: z.enum(["helper", "direct"]).default("helper"),
});
export type LocalConfig = z.infer<typeof LocalEnvSchema>;

function parse<T extends z.ZodTypeAny>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid environment: ${problems}`);
  }
  return result.data;
}

/** The one place that reads process.env, validated at start-up: a missing setting fails the cold start. */
export function loadConfig(mode: CloudFunction): CloudConfig;
export function loadConfig(mode: "local"): LocalConfig;
export function loadConfig(mode: CloudFunction | "local"): CloudConfig | LocalConfig {
  return mode === "local" ? parse(LocalEnvSchema, process.env) : parse(FUNCTION_ENV[mode], process.env);
}

export const ENGINE_VERSION = "0.1.0";

/** The ECS driver's settings (structurally the driver's EcsDriverSettings; config imports no adapter). */
export interface EcsSettings {
  cluster: string;
  taskRoleArn: string;
  executionRoleArn: string;
  logGroup: string;
  stageImage: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  region: string;
}

/** A function's ECS settings, or null when the stack has no container support wired in; a partial set fails. */
export function ecsSettings(config: CloudConfig): EcsSettings | null {
  const cluster = config[ENV.ecsCluster];
  if (!cluster) return null;
  const need = (name: string, value: string | undefined): string => {
    if (!value) throw new Error(`invalid environment: ${name} is required with ${ENV.ecsCluster}`);
    return value;
  };
  const list = (name: string, value: string | undefined) => need(name, value).split(",").filter(Boolean);
  return {
    cluster,
    taskRoleArn: need(ENV.ecsTaskRoleArn, config[ENV.ecsTaskRoleArn]),
    executionRoleArn: need(ENV.ecsExecutionRoleArn, config[ENV.ecsExecutionRoleArn]),
    logGroup: need(ENV.ecsLogGroup, config[ENV.ecsLogGroup]),
    stageImage: need(ENV.ecsStageImage, config[ENV.ecsStageImage]),
    subnets: list(ENV.ecsSubnets, config[ENV.ecsSubnets]),
    securityGroups: list(ENV.ecsSecurityGroups, config[ENV.ecsSecurityGroups]),
    assignPublicIp: config[ENV.ecsAssignPublicIp] === "true",
    region: config[ENV.awsRegion],
  };
}

/** Local settings of the embedded executors. */
export interface LocalExecutorSettings {
  /** `podman`, `docker` or a path (STEPWISE_CONTAINER_RUNTIME); unset = whichever is on PATH. */
  containerRuntime?: string;
  path: string;
  /** The container CLI's own environment (CONTAINERS_CONF, DOCKER_HOST…): never passed into a container. */
  cliEnv: Record<string, string | undefined>;
}

/** Reads the embedded executors' settings. */
export function loadLocalExecutorSettings(env: NodeJS.ProcessEnv = process.env): LocalExecutorSettings {
  const cliEnv: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    // What the CLI needs to find its storage and config; the engine's own secrets stay out.
    if (/^(PATH|HOME|USER|TMPDIR|XDG_[A-Z_]+|CONTAINERS_[A-Z_]+|DOCKER_[A-Z_]+|REGISTRY_AUTH_FILE)$/.test(k))
      cliEnv[k] = v;
  }
  return { containerRuntime: env.STEPWISE_CONTAINER_RUNTIME || undefined, path: env.PATH ?? "", cliEnv };
}
