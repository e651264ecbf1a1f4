import { EcsContainerExecutor, NoContainersExecutor } from "../shared/adapters/ecs/ecs-executor.ts";
import { EcsTaskDriver } from "../shared/adapters/ecs/ecs-task-driver.ts";
import { LambdaExecutor } from "../shared/adapters/lambda/lambda-executor.ts";
import { AwsLambdaInvoker } from "../shared/adapters/lambda/lambda-invoker.ts";
import { processExecutors } from "../shared/adapters/process/process-executor.ts";
import type { S3BlobStore } from "../shared/adapters/s3-blob-store.ts";
import { systemClock } from "../shared/domain/clock.ts";
import { recordedDigest } from "../shared/engine/pinned-image.ts";
import { loadEcsSettings } from "../shared/executor-config.ts";
import type { CostMeter } from "../shared/ports/metrics.ts";
import type { RunStore } from "../shared/ports/run-store.ts";
import type { TaskExecutors } from "../shared/ports/task-executor.ts";

/** The cloud executors: child processes in the Advance Lambda, ECS Fargate tasks, the account's Lambda functions. */
export function cloudExecutors(opts: {
  workRoot: string;
  meter: CostMeter;
  store: RunStore;
  blobs: S3BlobStore;
}): TaskExecutors {
  const ecs = loadEcsSettings();
  const container = ecs
    ? new EcsContainerExecutor(
        EcsTaskDriver.create(ecs, opts.meter),
        opts.blobs,
        opts.workRoot,
        systemClock,
        recordedDigest(opts.store),
      )
    : new NoContainersExecutor();
  const lambda = new LambdaExecutor(AwsLambdaInvoker.create(), opts.workRoot, systemClock, opts.meter);
  return { ...processExecutors(opts.workRoot, systemClock), container, lambda };
}
