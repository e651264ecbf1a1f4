import { z } from "zod";

/** Environment of a Lambda function in the cloud. */
const CloudEnvSchema = z.object({
  TABLE_NAME: z.string().min(1),
  BUCKET_NAME: z.string().min(1),
  RUN_STATE_MACHINE_ARN: z.string().min(1).optional(),
  JOB_STATE_MACHINE_ARN: z.string().min(1).optional(),
  /** sha256:<hex> of the platform (bootstrap) key; the key itself is never deployed. */
  PLATFORM_KEY_HASH: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .optional(),
  SECRETS_KMS_KEY_ID: z.string().min(1).optional(),
  EVENTS_TOPIC_ARN: z.string().min(1).optional(),
  EVENT_BUS_NAME: z.string().min(1).optional(),
  DELIVERY_QUEUE_URL: z.string().min(1).optional(),
  SCHEDULER_ROLE_ARN: z.string().min(1).optional(),
  SCHEDULE_TARGET_ARN: z.string().min(1).optional(),
  SCHEDULE_GROUP_NAME: z.string().min(1).optional(),
  /** "true" lets subscriptions target private and loopback ranges (never link-local or metadata addresses). */
  SUBSCRIPTIONS_ALLOW_PRIVATE_URLS: z.enum(["true", "false"]).optional(),
  TASK_WORK_DIR: z.string().min(1).default("/tmp/stepwise-tasks"),
});
export type CloudConfig = z.infer<typeof CloudEnvSchema>;

/** Environment of `npm start` (embedded mode). */
const LocalEnvSchema = z.object({
  STEPWISE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  STEPWISE_HOST: z.string().default("127.0.0.1"),
  STEPWISE_DATA_DIR: z.string().min(1).default(".stepwise"),
  STEPWISE_API_KEY: z.string().min(16).optional(),
  STEPWISE_EXAMPLES_DIR: z.string().default("examples"),
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

/** The one place that reads process.env, validated at start-up. */
export function loadConfig(mode: "cloud"): CloudConfig;
export function loadConfig(mode: "local"): LocalConfig;
export function loadConfig(mode: "cloud" | "local"): CloudConfig | LocalConfig {
  return mode === "cloud" ? parse(CloudEnvSchema, process.env) : parse(LocalEnvSchema, process.env);
}

export const ENGINE_VERSION = "0.1.0";
