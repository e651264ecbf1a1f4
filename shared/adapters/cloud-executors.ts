import { type CloudConfig, ecsSettings } from "../config.ts";
import { systemClock } from "../domain/clock.ts";
import { recordedDigest } from "../engine/pinned-image.ts";
import type { CostMeter } from "../ports/metrics.ts";
import type { RunStore } from "../ports/run-store.ts";
import type { TaskExecutors } from "../ports/task-executor.ts";
import { EcsContainerExecutor, NoContainersExecutor } from "./ecs/ecs-executor.ts";
import { EcsTaskDriver } from "./ecs/ecs-task-driver.ts";
import { LambdaExecutor } from "./lambda/lambda-executor.ts";
import { AwsLambdaInvoker } from "./lambda/lambda-invoker.ts";
import { processExecutors } from "./process/process-executor.ts";
import type { S3BlobStore } from "./s3-blob-store.ts";

/** The cloud executors: child processes in the Advance Lambda, ECS Fargate tasks, the account's Lambda functions. */
export function cloudExecutors(
  config: CloudConfig,
  opts: { meter: CostMeter; store: RunStore; blobs: S3BlobStore },
): TaskExecutors {
  const workRoot = config.TASK_WORK_DIR;
  const ecs = ecsSettings(config);
  const container = ecs
    ? new EcsContainerExecutor(
        EcsTaskDriver.create(ecs, opts.meter),
        opts.blobs,
        workRoot,
        systemClock,
        recordedDigest(opts.store),
      )
    : new NoContainersExecutor();
  const lambda = new LambdaExecutor(AwsLambdaInvoker.create(), workRoot, systemClock, opts.meter);
  return { ...processExecutors(workRoot, systemClock), container, lambda };
}
