import { z } from "zod";
import type { EcsDriverSettings } from "./adapters/ecs/ecs-task-driver.ts";

/** Environment names the containers construct sets on the engine's functions (and the schema below reads). */
export const CONTAINER_ENV = {
  cluster: "STEPWISE_ECS_CLUSTER",
  taskRoleArn: "STEPWISE_ECS_TASK_ROLE_ARN",
  executionRoleArn: "STEPWISE_ECS_EXECUTION_ROLE_ARN",
  logGroup: "STEPWISE_ECS_LOG_GROUP",
  stageImage: "STEPWISE_ECS_STAGE_IMAGE",
  subnets: "STEPWISE_ECS_SUBNETS",
  securityGroups: "STEPWISE_ECS_SECURITY_GROUPS",
  assignPublicIp: "STEPWISE_ECS_ASSIGN_PUBLIC_IP",
} as const;

const list = z
  .string()
  .min(1)
  .transform((s) => s.split(",").filter(Boolean));

const EcsEnvSchema = z.object({
  [CONTAINER_ENV.cluster]: z.string().min(1),
  [CONTAINER_ENV.taskRoleArn]: z.string().min(1),
  [CONTAINER_ENV.executionRoleArn]: z.string().min(1),
  [CONTAINER_ENV.logGroup]: z.string().min(1),
  [CONTAINER_ENV.stageImage]: z.string().min(1),
  [CONTAINER_ENV.subnets]: list,
  [CONTAINER_ENV.securityGroups]: list,
  [CONTAINER_ENV.assignPublicIp]: z.enum(["true", "false"]).default("false"),
  AWS_REGION: z.string().min(1).default("us-east-1"),
});

/** The ECS settings of a cloud function, or null when the stack has no container support wired in. */
export function loadEcsSettings(env: NodeJS.ProcessEnv = process.env): EcsDriverSettings | null {
  if (!env[CONTAINER_ENV.cluster]) return null;
  const parsed = EcsEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid container environment: ${problems}`);
  }
  const e = parsed.data;
  return {
    cluster: e[CONTAINER_ENV.cluster],
    taskRoleArn: e[CONTAINER_ENV.taskRoleArn],
    executionRoleArn: e[CONTAINER_ENV.executionRoleArn],
    logGroup: e[CONTAINER_ENV.logGroup],
    stageImage: e[CONTAINER_ENV.stageImage],
    subnets: e[CONTAINER_ENV.subnets],
    securityGroups: e[CONTAINER_ENV.securityGroups],
    assignPublicIp: e[CONTAINER_ENV.assignPublicIp] === "true",
    region: e.AWS_REGION,
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
