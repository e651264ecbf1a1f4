import type { Clock } from "../../domain/clock.ts";
import type { TaskExecutor, TaskRequest } from "../../ports/task-executor.ts";
import { stopOrphans } from "./orphans.ts";
import { runTask } from "./run-process.ts";
import { runtimeImage } from "./runtime-image.ts";
import { directSpawn, type Spawner } from "./task-spawner.ts";

type ProcessNode = Extract<TaskRequest["node"], { type: "command" | "script" }>;

/**
 * Commands and scripts as child processes of the Advance call (the Lambda, or the local server): an attempt
 * always finishes inside the call, so `start` never hands back an external handle.
 */
export class ProcessExecutor<N extends ProcessNode = ProcessNode> implements TaskExecutor<N> {
  constructor(
    private readonly workRoot: string,
    private readonly clock: Clock,
    /** How the attempt's process is started (shared/adapters/process/task-spawner.ts); directly by default. */
    private readonly spawner: Spawner = directSpawn,
  ) {}

  /** Runs the attempt to its end in a fresh directory with a clean environment. */
  async start(req: TaskRequest<N>, signal: AbortSignal) {
    const node: ProcessNode = req.node;
    const outcome = await runTask(
      {
        kind: node.type,
        source: node.type === "command" ? node.command : node.code,
        env: req.env,
        params: req.params,
        context: req.context,
        secrets: req.secrets,
        run: req.run,
        timeoutMs: req.timeoutMs,
        onLogProgress: req.onLogProgress,
        prepareInputs: req.prepareInputs,
      },
      this.workRoot,
      this.clock,
      signal,
      this.spawner,
    );
    return { kind: "finished" as const, outcome };
  }

  /** Kills the process group an attempt left running when the engine died, and removes its directory. */
  async recover(runId: string, nodeId: string): Promise<void> {
    await stopOrphans(this.workRoot, runId, nodeId);
  }

  /** The shell or the Node runtime, with the sha256 of its binary. */
  runtimeOf(node: N) {
    return runtimeImage(node.type, this.workRoot);
  }
}

/** The process executors of both process-run node types, sharing one work root and one way to spawn. */
export function processExecutors(workRoot: string, clock: Clock, spawner: Spawner = directSpawn) {
  return {
    command: new ProcessExecutor<Extract<ProcessNode, { type: "command" }>>(workRoot, clock, spawner),
    script: new ProcessExecutor<Extract<ProcessNode, { type: "script" }>>(workRoot, clock, spawner),
  };
}
