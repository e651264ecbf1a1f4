import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { LocalContainerExecutor } from "../shared/adapters/container/container-executor.ts";
import { LambdaExecutor } from "../shared/adapters/lambda/lambda-executor.ts";
import { LocalLambdaInvoker } from "../shared/adapters/lambda/local-lambda-invoker.ts";
import { processExecutors } from "../shared/adapters/process/process-executor.ts";
import { directSpawn, type TaskSpawn, TaskSpawner } from "../shared/adapters/process/task-spawner.ts";
import { type LocalExecutorSettings, loadLocalExecutorSettings } from "../shared/config.ts";
import type { Clock } from "../shared/domain/clock.ts";
import { recordedDigest } from "../shared/engine/pinned-image.ts";
import type { CostMeter } from "../shared/ports/metrics.ts";
import type { RunStore } from "../shared/ports/run-store.ts";
import type { TaskExecutors } from "../shared/ports/task-executor.ts";

/** The embedded executors: child processes, podman or docker containers, locally registered Lambda handlers. */
export function localExecutors(opts: {
  dataDir: string;
  workRoot: string;
  clock: Clock;
  meter: CostMeter;
  store: RunStore;
  containers?: LocalExecutorSettings;
  /** How command and script tasks are spawned (shared/adapters/process/task-spawner.ts). */
  taskSpawn: TaskSpawn;
}): { executors: TaskExecutors; container: LocalContainerExecutor; spawner: TaskSpawner | null } {
  const container = new LocalContainerExecutor(
    opts.containers ?? loadLocalExecutorSettings(),
    opts.workRoot,
    opts.clock,
    instanceOf(opts.dataDir),
    recordedDigest(opts.store),
  );
  const lambda = new LambdaExecutor(
    new LocalLambdaInvoker(opts.dataDir, opts.workRoot),
    opts.workRoot,
    opts.clock,
    opts.meter,
  );
  const spawner = opts.taskSpawn === "helper" ? new TaskSpawner() : null;
  spawner?.warm();
  const processes = processExecutors(opts.workRoot, opts.clock, spawner?.spawn ?? directSpawn);
  return { executors: { ...processes, container, lambda }, container, spawner };
}

/** One embedded server's identity on this machine: its data dir, resolved, hashed (short, label-safe). */
function instanceOf(dataDir: string): string {
  return createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16);
}
