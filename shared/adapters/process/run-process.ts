import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import type { Clock } from "../../domain/clock.ts";
import { isoMicro } from "../../domain/clock.ts";
import { sha256 } from "../../domain/hash.ts";
import type { TypedValue } from "../../domain/records.ts";
import { secretMasker } from "../../engine/secret-mask.ts";
import type { TaskOutcome } from "../../ports/task-executor.ts";
import { LogSink, readHead } from "./log-sink.ts";
import { runtimeImage } from "./runtime-image.ts";
import { meaningfulStderrLine, THROWN_KEY, thrownBy } from "./task-failure.ts";
import { parseOutputFile, typedResult } from "./task-output.ts";
import { directSpawn, type Spawner } from "./task-spawner.ts";

/** Exit code a command uses to say "nothing to do" (EX_CONFIG in sysexits). */
export const NO_ACTION_EXIT_CODE = 78;
const OUTPUT_FILE_MAX_BYTES = 1024 * 1024;
const KILL_GRACE_MS = 2000;

export interface TaskSpec {
  kind: "command" | "script";
  /** The shell command, or the script module's source. */
  source: string;
  env: Record<string, string>;
  params: Record<string, unknown>;
  context: Record<string, unknown>;
  secrets: Record<string, string>;
  run: { id: string; nodeId: string; attempt: number; workflow: string };
  timeoutMs: number;
  /** Files to place under in/ before the task starts: relative path → local file to copy from. */
  prepareInputs?: (inDir: string) => Promise<void>;
  /** Called every LIVE_LOG_EVERY_MS while the task runs, with the log so far, when it grew (live logs). */
  onLogProgress?: (log: Buffer) => Promise<void>;
}

/** How often a long task's log so far is published; a task shorter than this publishes its log once. */
export const LIVE_LOG_EVERY_MS = 5000;
/** Past this size the live copy stops (the whole log is still uploaded when the attempt ends). */
const LIVE_LOG_MAX_BYTES = 8 * 1024 * 1024;

/** The script runner's handler for a thrown error: result file first (the task's error), then the stack to stderr. */
const SCRIPT_THROWN_HANDLER = `(err) => {
  const thrown = err instanceof Error ? { name: err.name, message: err.message } : { name: "Error", message: String(err) };
  try { writeFileSync(process.env.STEPWISE_RESULT, JSON.stringify({ ${JSON.stringify(THROWN_KEY)}: thrown })); } catch {}
  console.error(err);
  process.exit(1);
}`;

const SCRIPT_RUNNER = `import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const thrown = ${SCRIPT_THROWN_HANDLER};
process.on("uncaughtException", thrown);
try {
  const input = JSON.parse(readFileSync(process.env.STEPWISE_INPUT, "utf8"));
  const mod = await import(pathToFileURL(process.env.STEPWISE_SCRIPT).href);
  if (typeof mod.default !== "function") throw new TypeError("the script has no default export function");
  const result = await mod.default({ params: input.params, context: input.context, run: input.run, secrets: input.secrets });
  writeFileSync(process.env.STEPWISE_RESULT, JSON.stringify(result === undefined ? null : result));
} catch (err) {
  thrown(err);
}
`;

/** A fresh directory for an attempt under the work root, which is made on first use (or if it went away). */
async function attemptDir(workRoot: string, prefix: string): Promise<string> {
  try {
    return await mkdtemp(join(workRoot, prefix));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await mkdir(workRoot, { recursive: true });
    return mkdtemp(join(workRoot, prefix));
  }
}

/** Runs one command or script attempt in a fresh directory with a clean environment. */
export async function runTask(
  spec: TaskSpec,
  workRoot: string,
  clock: Clock,
  signal: AbortSignal,
  spawner: Spawner = directSpawn,
): Promise<TaskOutcome> {
  const dir = await attemptDir(workRoot, `${spec.run.id}-${spec.run.nodeId}-`);
  const work = join(dir, "work");
  const outDir = join(work, "out");
  const inDir = join(work, "in");
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const mask = secretMasker(spec.secrets);
  const logPath = join(dir, "task.log");
  const outputFile = join(dir, "output.env");
  const resultFile = join(dir, "result.json");
  const inputFile = join(dir, "input.json");
  // Only what the task needs: none of the engine's credentials or settings are inherited.
  const env: Record<string, string> = {
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: work,
    TMPDIR: join(dir, "tmp"),
    LANG: "C.UTF-8",
    TZ: "UTC",
    STEPWISE_RUN_ID: spec.run.id,
    STEPWISE_NODE_ID: spec.run.nodeId,
    STEPWISE_ATTEMPT: String(spec.run.attempt),
    STEPWISE_OUTPUT: outputFile,
    STEPWISE_CONTEXT: join(dir, "context.json"),
    ...spec.env,
  };
  let argv: string[] = ["/bin/sh", "-c", spec.source];
  // The directory's parts are made together, one round of file-system calls rather than one call after another.
  const parts: Array<Promise<unknown>> = [
    mkdir(outDir, { recursive: true }),
    mkdir(inDir, { recursive: true }),
    mkdir(env.TMPDIR as string),
    writeFile(outputFile, ""),
    writeFile(env.STEPWISE_CONTEXT as string, JSON.stringify(spec.context)),
  ];
  if (spec.kind === "script") {
    const scriptPath = join(dir, "script.mjs");
    const runnerPath = join(dir, "runner.mjs");
    // Only the script runner reads the input file (params, context, run and secrets): a command gets env vars.
    parts.push(
      writeFile(
        inputFile,
        JSON.stringify({ params: spec.params, context: spec.context, run: spec.run, secrets: spec.secrets }),
        { mode: 0o600 },
      ),
      writeFile(scriptPath, spec.source),
      writeFile(runnerPath, SCRIPT_RUNNER),
    );
    Object.assign(env, { STEPWISE_INPUT: inputFile, STEPWISE_RESULT: resultFile, STEPWISE_SCRIPT: scriptPath });
    argv = [process.execPath, runnerPath];
  }
  const [{ image, imageHash }] = await Promise.all([
    runtimeImage(spec.kind, workRoot),
    Promise.all(parts).catch(async (err) => {
      await cleanup();
      throw err;
    }),
  ]);
  const sink = new LogSink(createWriteStream(logPath), mask, spec.secrets);
  if (spec.prepareInputs) {
    try {
      await spec.prepareInputs(inDir);
    } catch (err) {
      await cleanup(); // nothing ran: the caller gets no outcome to clean up with
      throw err;
    }
  }

  const startMs = clock.nowMs();
  const child = spawner(argv, { cwd: work, env });
  // Recovery after a crash of the engine finds the process group here (see stopOrphans).
  void child.pid.then((pid) => (pid ? writeFile(join(dir, "pid"), String(pid)) : undefined)).catch(() => {});
  child.onOutput((stream, c) => sink.write(stream, c));
  let stopReason: "timeout" | "cancelled" | null = null;
  const killGroup = (sig: NodeJS.Signals) => child.killGroup(sig);
  const stop = (reason: "timeout" | "cancelled") => {
    if (stopReason) return;
    stopReason = reason;
    killGroup("SIGTERM");
    setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS).unref();
  };
  const timer = setTimeout(() => stop("timeout"), spec.timeoutMs);
  let flushing: Promise<void> | null = null;
  let flushedBytes = 0;
  const live = spec.onLogProgress
    ? setInterval(() => {
        const size = sink.bytes;
        if (flushing || size === flushedBytes || size > LIVE_LOG_MAX_BYTES) return;
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
  const onAbort = () => stop("cancelled");
  signal.addEventListener("abort", onAbort);
  if (signal.aborted) onAbort();
  const exit = await child.exited;
  clearTimeout(timer);
  if (live) clearInterval(live);
  // The final upload must not be overtaken by a live copy still on its way.
  await flushing;
  signal.removeEventListener("abort", onAbort);
  // Whatever the task left running in its group goes with it.
  killGroup("SIGKILL");
  const endMs = clock.nowMs();
  const logs = await sink.close();

  const base = {
    exitCode: exit.code,
    stdoutHead: logs.stdoutHead,
    stderrHead: logs.stderrHead,
    logPath,
    liveCopied: flushedBytes > 0,
    logBytes: sink.bytes,
    logSha256: logs.sha,
    image,
    imageHash,
    command: spec.kind === "command" ? spec.source : null,
    codeHash: sha256(spec.source),
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
  if (exit.spawnError) return fail("spawn_failed", `could not start the task: ${exit.spawnError.message}`);

  const lastErrLine = meaningfulStderrLine(logs.stderrHead);
  if (spec.kind === "command" && exit.code === NO_ACTION_EXIT_CODE) {
    return {
      ...base,
      status: "no_action",
      error: null,
      noActionReason: lastErrLine || `exit code ${NO_ACTION_EXIT_CODE}`,
      outputVariables: {},
    };
  }
  if (exit.code !== 0) {
    const how = exit.code === null ? "was killed by a signal" : `exited with code ${exit.code}`;
    // A script's own thrown error beats stderr; it is masked like the log, since a message may quote a secret.
    const why = (spec.kind === "script" ? await thrownBy(resultFile) : null) ?? lastErrLine;
    return fail("task_failed", `the ${spec.kind} ${how}${why ? `: ${mask(why).slice(0, 300)}` : ""}`);
  }
  try {
    let vars: Record<string, TypedValue> = {};
    let noAction: string | null = null;
    const size = (await stat(outputFile)).size;
    if (size > OUTPUT_FILE_MAX_BYTES)
      throw new Error(`$STEPWISE_OUTPUT is ${size} bytes; the limit is ${OUTPUT_FILE_MAX_BYTES}`);
    if (size > 0) vars = parseOutputFile(await readFile(outputFile, "utf8"));
    if (spec.kind === "script") {
      const typed = typedResult(JSON.parse(await readFile(resultFile, "utf8")));
      vars = { ...vars, ...typed.vars };
      noAction = typed.noAction;
    }
    if (noAction) return { ...base, status: "no_action", error: null, noActionReason: noAction, outputVariables: vars };
    return { ...base, status: "succeeded", error: null, noActionReason: null, outputVariables: vars };
  } catch (err) {
    return fail("invalid_output", (err as Error).message);
  }
}
