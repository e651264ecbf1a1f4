import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { LocalExecutorSettings } from "../../config.ts";
import type { Clock } from "../../domain/clock.ts";
import { isoMicro } from "../../domain/clock.ts";
import { hashJson, sha256 } from "../../domain/hash.ts";
import type { ContainerNode } from "../../domain/workflow.ts";
import { consoleLogger, type Logger } from "../../ports/logger.ts";
import type { ExternalHandle, StartResult, TaskExecutor, TaskOutcome, TaskRequest } from "../../ports/task-executor.ts";
import { type ContainerCli, findContainerRuntime, LABELS } from "./container-cli.ts";
import { type RunningContainer, startContainerTask } from "./container-task.ts";

/** Who is told when a container attempt ended: the engine's completeExternalTask, in the same process. */
export type ContainerFinished = (
  ids: { orgId: string; runId: string; nodeId: string; ref: string },
  result: { ref: string },
) => Promise<unknown>;

/**
 * container nodes on this machine (podman or docker): the attempt starts inside the Advance call and runs on after
 * it; the run waits in its task-token state until the container exits and `onFinished` wakes it (no polling).
 */
export class LocalContainerExecutor implements TaskExecutor<ContainerNode> {
  /** Attempts started by this process; `stopped` once the engine stopped one (it records it, not the wake-up). */
  private readonly running = new Map<
    string,
    { container: RunningContainer; outcome: TaskOutcome | null; stopped: boolean }
  >();
  private cliFound: Promise<ContainerCli> | null = null;
  /** Set by the composition root once the engine exists. */
  onFinished: ContainerFinished | null = null;
  /** Where a failed wake-up is reported; the composition root sets the runtime's logger. */
  logger: Logger = consoleLogger;

  constructor(
    private readonly settings: LocalExecutorSettings,
    private readonly workRoot: string,
    private readonly clock: Clock,
    /** This server's identity (a hash of its data dir): its containers carry it, and only those are its orphans. */
    private readonly instance: string,
    /** The digest this node's earlier attempts (or the run it reruns) recorded, to run exactly that again. */
    private readonly pinnedDigest: (req: TaskRequest<ContainerNode>) => Promise<string | undefined> = async () =>
      undefined,
  ) {}

  private cli(): Promise<ContainerCli> {
    if (!this.cliFound) {
      this.cliFound = findContainerRuntime({
        choice: this.settings.containerRuntime,
        path: this.settings.path,
        env: this.settings.cliEnv,
      });
      this.cliFound.catch(() => {
        this.cliFound = null; // installed later: found on the next attempt
      });
    }
    return this.cliFound;
  }

  async start(req: TaskRequest<ContainerNode>): Promise<StartResult> {
    const cli = await this.cli();
    const node = req.node;
    const container = await startContainerTask(
      cli,
      {
        image: node.image,
        pinnedDigest: await this.pinnedDigest(req),
        command: node.command,
        resources: node.resources,
        env: req.env,
        context: req.context,
        secrets: req.secrets,
        run: req.run,
        orgId: req.orgId,
        instance: this.instance,
        timeoutMs: req.timeoutMs,
        prepareInputs: req.prepareInputs,
        onLogProgress: req.onLogProgress,
      },
      this.workRoot,
      this.clock,
    );
    const entry = { container, outcome: null as TaskOutcome | null, stopped: false };
    this.running.set(container.name, entry);
    const ids = { orgId: req.orgId, runId: req.run.id, nodeId: req.run.nodeId, ref: container.name };
    void container.done
      .then(async (outcome) => {
        entry.outcome = outcome;
        if (!entry.stopped) await this.onFinished?.(ids, { ref: container.name });
      })
      .catch((err: Error) => this.logger.error("container wake-up failed", { ...ids, error: err.message }));
    const handle: ExternalHandle = {
      ref: container.name,
      startedAt: container.startedAt,
      deadlineMs: this.clock.nowMs() + req.timeoutMs,
      data: { image: node.image, digest: container.digest },
    };
    return { kind: "started", handle };
  }

  async complete(handle: ExternalHandle): Promise<TaskOutcome> {
    const entry = this.running.get(handle.ref);
    this.running.delete(handle.ref);
    if (entry) return entry.outcome ?? (await entry.container.done);
    return interruptedOutcome(handle, this.workRoot, this.clock);
  }

  async stop(handle: ExternalHandle): Promise<void> {
    const entry = this.running.get(handle.ref);
    if (entry) {
      entry.stopped = true;
      const timedOut = this.clock.nowMs() >= handle.deadlineMs;
      entry.container.stop(timedOut ? "timeout" : "cancelled");
      const outcome = await entry.container.done.catch(() => null);
      // A timed-out attempt is completed by the engine next (its logs are evidence); a cancelled one by no one.
      if (!timedOut) {
        this.running.delete(handle.ref);
        await outcome?.cleanup();
      }
      return;
    }
    const cli = await this.cli().catch(() => null);
    await cli?.remove(handle.ref);
  }

  /**
   * At start-up: stops and removes every container this server (same data dir) left behind when it was killed and
   * wakes its run, which records the attempt as interrupted (its retry, or the task's end). Containers of another
   * server on the same machine carry another instance label and are left alone.
   */
  async recoverOrphans(): Promise<number> {
    const cli = await this.cli().catch(() => null);
    if (!cli) return 0;
    const found = await cli.listWithLabel(`${LABELS.instance}=${this.instance}`);
    for (const c of found) {
      if (this.running.has(c.name)) continue;
      await cli.remove(c.name);
      const { [LABELS.org]: orgId, [LABELS.run]: runId, [LABELS.node]: nodeId } = c.labels;
      if (orgId && runId && nodeId)
        await this.onFinished?.({ orgId, runId, nodeId, ref: c.name }, { ref: c.name }).catch(() => {});
    }
    return found.length;
  }

  /** Before it resolved, what would have run is the image as written. */
  async runtimeOf(node: ContainerNode) {
    return { image: node.image, imageHash: "" };
  }
}

/** The outcome of an attempt whose server died while it ran (its container was stopped at the next start). */
async function interruptedOutcome(handle: ExternalHandle, workRoot: string, clock: Clock): Promise<TaskOutcome> {
  await mkdir(workRoot, { recursive: true });
  const dir = await mkdtemp(join(workRoot, "interrupted-"));
  await mkdir(join(dir, "out"));
  await writeFile(join(dir, "task.log"), "");
  const now = clock.nowMs();
  const started = Date.parse(handle.startedAt);
  return {
    status: "failed",
    exitCode: null,
    error: {
      code: "interrupted",
      message: "the server stopped while the container ran; its container was stopped at the next start",
    },
    noActionReason: null,
    outputVariables: {},
    stdoutHead: "",
    stderrHead: "",
    logPath: join(dir, "task.log"),
    logBytes: 0,
    logSha256: sha256(""),
    liveCopied: false,
    image: String(handle.data?.image ?? ""),
    imageHash: String(handle.data?.digest ?? ""),
    command: null,
    codeHash: hashJson([]),
    startedAt: handle.startedAt,
    endedAt: isoMicro(now),
    durationMs: Math.round((now - started) * 1000) / 1000,
    host: hostname(),
    outDir: join(dir, "out"),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
