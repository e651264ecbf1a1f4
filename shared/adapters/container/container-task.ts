import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../domain/clock.ts";
import { isoMicro } from "../../domain/clock.ts";
import { hashJson } from "../../domain/hash.ts";
import type { TypedValue } from "../../domain/records.ts";
import { secretMasker } from "../../engine/secret-mask.ts";
import type { TaskOutcome } from "../../ports/task-executor.ts";
import { LogSink, readHead } from "../process/log-sink.ts";
import { LIVE_LOG_EVERY_MS, NO_ACTION_EXIT_CODE } from "../process/run-process.ts";
import { parseOutputFile } from "../process/task-output.ts";
import { type ContainerCli, LABELS } from "./container-cli.ts";

/** Inside the container: the working directory, holding in/ and out/ as for a command node. */
export const CONTAINER_WORKDIR = "/stepwise";
/** Inside the container: where $STEPWISE_OUTPUT and $STEPWISE_CONTEXT live (outside the working directory). */
export const CONTAINER_META_DIR = "/run/stepwise";
const OUTPUT_FILE_MAX_BYTES = 1024 * 1024;
const STOP_GRACE_SECONDS = 2;

export interface ContainerTaskSpec {
  /** The image as written in the definition. */
  image: string;
  /** The digest a previous attempt recorded, when this attempt must run exactly that (rerun, restart). */
  pinnedDigest?: string;
  command?: string[];
  resources?: { cpu?: number; memoryMiB?: number };
  /** The node's env (interpolated) and the run's secrets as env: nothing else reaches the container. */
  env: Record<string, string>;
  context: Record<string, unknown>;
  secrets: Record<string, string>;
  run: { id: string; nodeId: string; attempt: number; workflow: string };
  /** The run's org: a label, so a restarted server can wake the run of an orphan it stops. */
  orgId?: string;
  /** The server that starts it: a label, so only that server's next start treats it as an orphan. */
  instance?: string;
  timeoutMs: number;
  prepareInputs?: (inDir: string) => Promise<void>;
  onLogProgress?: (log: Buffer) => Promise<void>;
}

/** The container's name: unique per attempt, so stop and remove never touch another attempt's container. */
export function containerName(run: ContainerTaskSpec["run"]): string {
  const safe = `${run.id}-${run.nodeId}-${run.attempt}`.replace(/[^A-Za-z0-9_.-]/g, "_");
  return `stepwise-${safe}-${randomBytes(3).toString("hex")}`;
}

/** A container attempt that runs: its name, the digest it runs, and its outcome once it exits. */
export interface RunningContainer {
  name: string;
  digest: string;
  startedAt: string;
  done: Promise<TaskOutcome>;
  /** Stops and removes the container; `done` then settles with a timeout or a cancel. */
  stop(reason: "timeout" | "cancelled"): void;
}

/**
 * Runs one container attempt pinned to the image's digest, in a fresh directory mounted at /stepwise, and returns
 * the same outcome (logs, exit code, output variables, out/ directory) a command node's attempt has.
 */
export async function runContainerTask(
  cli: ContainerCli,
  spec: ContainerTaskSpec,
  workRoot: string,
  clock: Clock,
  signal: AbortSignal,
): Promise<TaskOutcome> {
  const running = await startContainerTask(cli, spec, workRoot, clock);
  const onAbort = () => running.stop("cancelled");
  signal.addEventListener("abort", onAbort);
  if (signal.aborted) onAbort();
  try {
    return await running.done;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Starts a container attempt: resolves the image to its digest (a missing image throws before anything exists),
 * prepares its directory with in/, out/ and the output file, and starts it; `done` settles when it exits.
 */
export async function startContainerTask(
  cli: ContainerCli,
  spec: ContainerTaskSpec,
  workRoot: string,
  clock: Clock,
): Promise<RunningContainer> {
  // Resolved before anything else: a missing image fails the attempt before a directory or container exists.
  const identity = await cli.resolve(spec.image, spec.pinnedDigest);
  await mkdir(workRoot, { recursive: true });
  const dir = await mkdtemp(join(workRoot, `${spec.run.id}-${spec.run.nodeId}-`));
  const work = join(dir, "work");
  const meta = join(dir, "meta");
  const inDir = join(work, "in");
  const outDir = join(work, "out");
  for (const d of [work, inDir, outDir, meta]) await mkdir(d, { recursive: true });
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const outputFile = join(meta, "output.env");
  await writeFile(outputFile, "");
  await writeFile(join(meta, "context.json"), JSON.stringify(spec.context));
  // The image may run as a non-root user: it must still write out/ and $STEPWISE_OUTPUT.
  await chmod(outDir, 0o777);
  await chmod(meta, 0o777);
  await chmod(outputFile, 0o666);
  if (spec.prepareInputs) {
    try {
      await spec.prepareInputs(inDir);
    } catch (err) {
      await cleanup();
      throw err;
    }
  }
  const name = containerName(spec.run);
  const logPath = join(dir, "task.log");
  const sink = new LogSink(createWriteStream(logPath), secretMasker(spec.secrets), spec.secrets);
  const startMs = clock.nowMs();
  const child = cli.start({
    name,
    image: identity.pinned,
    command: spec.command,
    workdir: CONTAINER_WORKDIR,
    mounts: [
      { host: work, container: CONTAINER_WORKDIR },
      { host: meta, container: CONTAINER_META_DIR },
    ],
    labels: {
      ...(spec.orgId ? { [LABELS.org]: spec.orgId } : {}),
      ...(spec.instance ? { [LABELS.instance]: spec.instance } : {}),
      [LABELS.run]: spec.run.id,
      [LABELS.node]: spec.run.nodeId,
      [LABELS.attempt]: String(spec.run.attempt),
    },
    env: {
      STEPWISE_RUN_ID: spec.run.id,
      STEPWISE_NODE_ID: spec.run.nodeId,
      STEPWISE_ATTEMPT: String(spec.run.attempt),
      STEPWISE_OUTPUT: `${CONTAINER_META_DIR}/output.env`,
      STEPWISE_CONTEXT: `${CONTAINER_META_DIR}/context.json`,
      ...spec.env,
    },
    cpu: spec.resources?.cpu,
    memoryMiB: spec.resources?.memoryMiB,
  });
  child.stdout?.on("data", (c: Buffer) => sink.write("o", c));
  child.stderr?.on("data", (c: Buffer) => sink.write("e", c));
  let stopReason: "timeout" | "cancelled" | null = null;
  let exited = false;
  child.once("close", () => {
    exited = true;
  });
  const stop = (reason: "timeout" | "cancelled") => {
    if (stopReason) return;
    stopReason = reason;
    // A stop that lands while the runtime still creates the container finds nothing to stop: ask until it ends.
    void (async () => {
      while (!exited) {
        await cli.stop(name, STOP_GRACE_SECONDS);
        if (!exited) await new Promise((r) => setTimeout(r, 500));
      }
    })();
  };
  const timer = setTimeout(() => stop("timeout"), spec.timeoutMs);
  let flushing: Promise<void> | null = null;
  let flushedBytes = 0;
  const live = spec.onLogProgress
    ? setInterval(() => {
        const size = sink.bytes;
        if (flushing || size === flushedBytes) return;
        flushing = readHead(logPath, size)
          .then((head) => {
            flushedBytes = size;
            return spec.onLogProgress?.(head);
          })
          .catch(() => {}) // a missed live copy is not worth failing the task over
          .finally(() => {
            flushing = null;
          });
      }, LIVE_LOG_EVERY_MS)
    : null;
  const done = finish();
  return { name, digest: identity.digest, startedAt: isoMicro(startMs), done, stop };

  async function finish(): Promise<TaskOutcome> {
    const exit = await new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
      child.once("error", (err) => resolve({ code: null, spawnError: err }));
      child.once("close", (code) => resolve({ code }));
    });
    clearTimeout(timer);
    if (live) clearInterval(live);
    await flushing;
    const endMs = clock.nowMs();
    // The CLI's own exit code mixes the runtime's errors (125-127) with the container's: ask the runtime.
    const exitCode = exit.spawnError ? null : await cli.exitCode(name);
    await cli.remove(name);
    const logs = await sink.close();
    const base = {
      exitCode,
      stdoutHead: logs.stdoutHead,
      stderrHead: logs.stderrHead,
      logPath,
      liveCopied: flushedBytes > 0,
      logBytes: sink.bytes,
      logSha256: logs.sha,
      image: spec.image,
      imageHash: identity.digest,
      command: spec.command ? JSON.stringify(spec.command) : null,
      codeHash: hashJson(spec.command ?? []),
      startedAt: isoMicro(startMs),
      endedAt: isoMicro(endMs),
      durationMs: Math.round((endMs - startMs) * 1000) / 1000,
      host: hostname(),
      outDir,
      cleanup,
    };
    const fail = (code: string, message: string): TaskOutcome => ({
      ...base,
      status: "failed",
      error: { code, message },
      noActionReason: null,
      outputVariables: {},
    });
    if (stopReason === "cancelled") return { ...fail("cancelled", "the run was cancelled"), status: "cancelled" };
    if (stopReason === "timeout") return fail("timeout", `timed out after ${spec.timeoutMs / 1000}s`);
    const lastErrLine = logs.stderrHead.trim().split("\n").pop() ?? "";
    if (exit.spawnError) return fail("spawn_failed", `could not start ${cli.bin}: ${exit.spawnError.message}`);
    if (exitCode === null)
      return fail("container_start_failed", `the container did not start${lastErrLine ? `: ${lastErrLine}` : ""}`);
    if (exitCode === NO_ACTION_EXIT_CODE) {
      return {
        ...base,
        status: "no_action",
        error: null,
        noActionReason: lastErrLine || `exit code ${NO_ACTION_EXIT_CODE}`,
        outputVariables: {},
      };
    }
    if (exitCode !== 0)
      return fail(
        "task_failed",
        `the container exited with code ${exitCode}${lastErrLine ? `: ${lastErrLine.slice(0, 300)}` : ""}`,
      );
    try {
      const size = (await stat(outputFile)).size;
      if (size > OUTPUT_FILE_MAX_BYTES)
        throw new Error(`$STEPWISE_OUTPUT is ${size} bytes; the limit is ${OUTPUT_FILE_MAX_BYTES}`);
      const vars: Record<string, TypedValue> = parseOutputFile(await readFile(outputFile, "utf8"));
      return { ...base, status: "succeeded", error: null, noActionReason: null, outputVariables: vars };
    } catch (err) {
      return fail("invalid_output", (err as Error).message);
    }
  }
}

/** Stops and removes the containers an attempt of this run and node left running when the engine died. */
export async function stopOrphanContainers(cli: ContainerCli, runId: string, nodeId: string): Promise<number> {
  const names = await cli.listByLabels({ [LABELS.run]: runId, [LABELS.node]: nodeId });
  for (const name of names) await cli.remove(name);
  return names.length;
}
