import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { hashJson } from "../../domain/hash.ts";
import type { CostMeter } from "../../ports/metrics.ts";

/** The container names inside every Stepwise task definition. */
export const ECS_CONTAINERS = { stageIn: "stage-in", task: "task", stageOut: "stage-out" } as const;
/** The `group` of every Stepwise task: the EventBridge rule matches it. */
export const ECS_TASK_GROUP = "stepwise";
/** Memory each stage container is given (they copy files; the user's container gets what it asked for). */
const STAGE_MEMORY_MIB = 128;

export interface EcsDriverSettings {
  cluster: string;
  taskRoleArn: string;
  executionRoleArn: string;
  logGroup: string;
  region: string;
  /** Stepwise's own stage image (stage-in and stage-out), built by CDK from infra/stage-image. */
  stageImage: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp?: boolean;
}

/** Fargate's CPU sizes and the memory (MiB) each allows. */
const FARGATE_SIZES: Array<{ cpu: number; memory: number[] }> = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: [1024, 2048, 3072, 4096] },
  { cpu: 1024, memory: [2048, 3072, 4096, 5120, 6144, 7168, 8192] },
  { cpu: 2048, memory: Array.from({ length: 13 }, (_, i) => 4096 + i * 1024) },
  { cpu: 4096, memory: Array.from({ length: 23 }, (_, i) => 8192 + i * 1024) },
  { cpu: 8192, memory: Array.from({ length: 12 }, (_, i) => 16_384 + i * 4096) },
  { cpu: 16_384, memory: Array.from({ length: 12 }, (_, i) => 32_768 + i * 8192) },
];

/** The smallest Fargate size that fits the user's container plus the two stage containers. */
export function fargateSize(cpu = 256, memoryMiB = 512): { cpu: number; memory: number } {
  const need = memoryMiB + 2 * STAGE_MEMORY_MIB;
  for (const size of FARGATE_SIZES) {
    if (size.cpu < cpu) continue;
    const memory = size.memory.find((m) => m >= need);
    if (memory) return { cpu: size.cpu, memory };
  }
  throw new Error(`no Fargate size has ${cpu} CPU units and ${need} MiB`);
}

/** A task definition family per image reference and size: registered on first use, reused after. */
export function taskFamily(image: string, size: { cpu: number; memory: number }, memoryMiB: number): string {
  return `stepwise-${hashJson({ image, ...size, memoryMiB }).slice(7, 31)}`;
}

/** What one attempt's RunTask carries. */
export interface EcsRunRequest {
  taskDefinitionArn: string;
  command?: string[];
  /** The node's env (and secrets): only the user's container gets it. */
  env: Record<string, string>;
  /** Presigned GET of the stage-in manifest (context and input files with their recorded hashes). */
  stageInUrl: string;
  /** Presigned PUT for the stage-out result (a tar of out/, $STEPWISE_OUTPUT and the exit code). */
  stageOutUrl: string;
  attempt: EcsAttempt;
}

/** The attempt a task runs, carried in its `startedBy` (`orgId/runId/nodeId/attempt`) to the STOPPED event. */
export interface EcsAttempt {
  orgId: string;
  runId: string;
  nodeId: string;
  attempt: number;
}

/** What DescribeTasks (or the STOPPED event) says about a task. */
export interface EcsTaskView {
  taskArn: string;
  lastStatus: string;
  availabilityZone: string | null;
  stopCode: string | null;
  stoppedReason: string | null;
  startedAt: Date | null;
  stoppedAt: Date | null;
  /** The user's container: the digest ECS pulled and its exit code. */
  task: { imageDigest: string | null; exitCode: number | null; reason: string | null };
}

const envList = (env: Record<string, string>) => Object.entries(env).map(([name, value]) => ({ name, value }));

/** Runs container attempts as Fargate tasks: stage-in, the user's container, stage-out, sharing two volumes. */
export class EcsTaskDriver {
  constructor(
    private readonly client: ECSClient,
    private readonly settings: EcsDriverSettings,
    private readonly meter?: CostMeter,
  ) {}

  /** A driver with the function's own credentials, in the settings' region. */
  static create(settings: EcsDriverSettings, meter?: CostMeter): EcsTaskDriver {
    return new EcsTaskDriver(new ECSClient({ region: settings.region }), settings, meter);
  }

  /** The task definition input for an image and size (every container names its `memory`, as ECS allows). */
  definitionInput(
    family: string,
    image: string,
    size: { cpu: number; memory: number },
    memoryMiB: number,
  ): RegisterTaskDefinitionCommandInput {
    const s = this.settings;
    const logs = (prefix: string) => ({
      logDriver: "awslogs" as const,
      options: { "awslogs-group": s.logGroup, "awslogs-region": s.region, "awslogs-stream-prefix": prefix },
    });
    const work = [
      { sourceVolume: "work", containerPath: "/stepwise" },
      { sourceVolume: "meta", containerPath: "/run/stepwise" },
    ];
    return {
      family,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(size.cpu),
      memory: String(size.memory),
      taskRoleArn: s.taskRoleArn,
      executionRoleArn: s.executionRoleArn,
      volumes: [{ name: "work" }, { name: "meta" }],
      containerDefinitions: [
        {
          name: ECS_CONTAINERS.stageIn,
          image: s.stageImage,
          essential: false,
          memory: STAGE_MEMORY_MIB,
          command: ["in"],
          mountPoints: work,
          logConfiguration: logs("stage"),
        },
        {
          name: ECS_CONTAINERS.task,
          image,
          essential: false,
          memory: memoryMiB,
          workingDirectory: "/stepwise",
          mountPoints: work,
          dependsOn: [{ containerName: ECS_CONTAINERS.stageIn, condition: "SUCCESS" }],
          logConfiguration: logs("task"),
        },
        {
          name: ECS_CONTAINERS.stageOut,
          image: s.stageImage,
          // The task ends when stage-out does: after the user's container, whatever its exit.
          essential: true,
          memory: STAGE_MEMORY_MIB,
          command: ["out"],
          mountPoints: work,
          dependsOn: [{ containerName: ECS_CONTAINERS.task, condition: "COMPLETE" }],
          logConfiguration: logs("stage"),
        },
      ],
    };
  }

  /** The task definition for an image and size: the ACTIVE one of its family, or a new registration. */
  async taskDefinition(image: string, resources: { cpu?: number; memoryMiB?: number } = {}): Promise<string> {
    const memoryMiB = resources.memoryMiB ?? 512;
    const size = fargateSize(resources.cpu, memoryMiB);
    const family = taskFamily(image, size, memoryMiB);
    const known = await this.client
      .send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))
      .then((r) => r.taskDefinition)
      .catch(() => undefined);
    if (known?.taskDefinitionArn && known.status === "ACTIVE") return known.taskDefinitionArn;
    const registered = await this.client.send(
      new RegisterTaskDefinitionCommand(this.definitionInput(family, image, size, memoryMiB)),
    );
    const arn = registered.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new Error(`ECS registered no task definition for ${family}`);
    return arn;
  }

  /** The RunTask request for an attempt (pure: the recording test checks it). */
  runTaskInput(req: EcsRunRequest): RunTaskCommandInput {
    const s = this.settings;
    const { orgId, runId, nodeId, attempt } = req.attempt;
    return {
      cluster: s.cluster,
      taskDefinition: req.taskDefinitionArn,
      launchType: "FARGATE",
      count: 1,
      group: ECS_TASK_GROUP,
      // At most 128 characters: org ids and node ids are at most 64, run ids 30 (see attemptOfTask).
      startedBy: `${orgId}/${runId}/${nodeId}/${attempt}`,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: s.subnets,
          securityGroups: s.securityGroups,
          assignPublicIp: s.assignPublicIp ? "ENABLED" : "DISABLED",
        },
      },
      propagateTags: "TASK_DEFINITION",
      enableECSManagedTags: true,
      tags: [
        { key: "stepwise:org", value: orgId },
        { key: "stepwise:run", value: runId },
        { key: "stepwise:node", value: nodeId },
        { key: "stepwise:attempt", value: String(attempt) },
      ],
      overrides: {
        containerOverrides: [
          { name: ECS_CONTAINERS.stageIn, environment: envList({ STEPWISE_STAGE_IN_URL: req.stageInUrl }) },
          {
            name: ECS_CONTAINERS.task,
            ...(req.command ? { command: req.command } : {}),
            environment: envList({
              STEPWISE_RUN_ID: runId,
              STEPWISE_NODE_ID: nodeId,
              STEPWISE_ATTEMPT: String(attempt),
              STEPWISE_OUTPUT: "/run/stepwise/output.env",
              STEPWISE_CONTEXT: "/run/stepwise/context.json",
              ...req.env,
            }),
          },
          { name: ECS_CONTAINERS.stageOut, environment: envList({ STEPWISE_STAGE_OUT_URL: req.stageOutUrl }) },
        ],
      },
    };
  }

  /** Starts the attempt's task; returns its ARN. */
  async run(req: EcsRunRequest): Promise<string> {
    if (this.meter) this.meter.ecsRunTasks++;
    const out = await this.client.send(new RunTaskCommand(this.runTaskInput(req)));
    const arn = out.tasks?.[0]?.taskArn;
    if (!arn) {
      const why = out.failures?.map((f) => `${f.reason ?? "failure"}${f.detail ? ` (${f.detail})` : ""}`).join("; ");
      throw new Error(`ECS did not start the task${why ? `: ${why}` : ""}`);
    }
    return arn;
  }

  /** The task as ECS sees it now; null when ECS no longer knows it. */
  async describe(taskArn: string): Promise<EcsTaskView | null> {
    if (this.meter) this.meter.ecsDescribeTasks++;
    const out = await this.client.send(new DescribeTasksCommand({ cluster: this.settings.cluster, tasks: [taskArn] }));
    const t = out.tasks?.[0];
    return t ? taskView(t) : null;
  }

  /** Stops a task (timeout, cancel, an orphan after a crash). */
  async stop(taskArn: string, reason: string): Promise<void> {
    await this.client.send(new StopTaskCommand({ cluster: this.settings.cluster, task: taskArn, reason }));
  }
}

interface TaskLike {
  taskArn?: string;
  lastStatus?: string;
  availabilityZone?: string;
  stopCode?: string;
  stoppedReason?: string;
  startedAt?: Date | string;
  stoppedAt?: Date | string;
  containers?: Array<{ name?: string; imageDigest?: string; exitCode?: number; reason?: string }>;
}

const asDate = (d: Date | string | undefined): Date | null => (d ? new Date(d) : null);

/** The view of a DescribeTasks task or of an "ECS Task State Change" event's detail (they share the shape). */
export function taskView(t: TaskLike): EcsTaskView {
  const user = t.containers?.find((c) => c.name === ECS_CONTAINERS.task);
  return {
    taskArn: t.taskArn ?? "",
    lastStatus: t.lastStatus ?? "UNKNOWN",
    availabilityZone: t.availabilityZone ?? null,
    stopCode: t.stopCode ?? null,
    stoppedReason: t.stoppedReason ?? null,
    startedAt: asDate(t.startedAt),
    stoppedAt: asDate(t.stoppedAt),
    task: {
      imageDigest: user?.imageDigest ?? null,
      exitCode: typeof user?.exitCode === "number" ? user.exitCode : null,
      reason: user?.reason ?? null,
    },
  };
}

/** The attempt a Stepwise task belongs to, from its `startedBy` (`orgId/runId/nodeId/attempt`). */
export function attemptOfTask(startedBy: string | undefined): EcsAttempt | null {
  const m = /^([^/]+)\/(run_[A-Za-z0-9]+)\/([A-Za-z0-9][A-Za-z0-9_-]*)\/(\d+)$/.exec(startedBy ?? "");
  return m ? { orgId: m[1] as string, runId: m[2] as string, nodeId: m[3] as string, attempt: Number(m[4]) } : null;
}

/** An EventBridge "ECS Task State Change" event for a stopped Stepwise task, or null for anything else. */
export function stoppedStepwiseTask(event: {
  "detail-type"?: string;
  detail?: TaskLike & { group?: string; startedBy?: string };
}): { view: EcsTaskView; attempt: EcsAttempt } | null {
  const d = event.detail;
  if (event["detail-type"] !== "ECS Task State Change" || !d || d.lastStatus !== "STOPPED") return null;
  if (d.group !== ECS_TASK_GROUP) return null;
  const attempt = attemptOfTask(d.startedBy);
  return attempt ? { view: taskView(d), attempt } : null;
}
