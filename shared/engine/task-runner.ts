import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import type { Clock } from "../domain/clock.ts";
import { isoMicro } from "../domain/clock.ts";
import { sha256 } from "../domain/hash.ts";
import type { TypedValue } from "../domain/records.ts";
import { typeOfValue, VALUE_TYPES, type ValueType } from "../domain/workflow.ts";
import { dropPartialSecret, maskableSecrets, secretMasker } from "./secret-mask.ts";
import { meaningfulStderrLine, SCRIPT_THROWN_HANDLER, thrownBy } from "./task-failure.ts";

/** Exit code a command uses to say "nothing to do" (EX_CONFIG in sysexits). */
export const NO_ACTION_EXIT_CODE = 78;
/** How much of stdout and stderr the task record keeps; the full log is in the blob store. */
export const LOG_HEAD_BYTES = 4096;
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

export interface TaskOutcome {
  status: "succeeded" | "failed" | "cancelled" | "no_action";
  exitCode: number | null;
  error: { code: string; message: string } | null;
  noActionReason: string | null;
  outputVariables: Record<string, TypedValue>;
  stdoutHead: string;
  stderrHead: string;
  /** Path of the combined log (lines "o|…" / "e|…"), removed by `cleanup`. */
  logPath: string;
  logBytes: number;
  logSha256: string;
  /** Whether a live copy of the log was published while the task ran (it sits at the attempt's log key). */
  liveCopied: boolean;
  image: string;
  imageHash: string;
  command: string | null;
  codeHash: string | null;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  host: string;
  /** The task's out/ directory, for the caller to collect files from before cleanup. */
  outDir: string;
  cleanup: () => Promise<void>;
}

const imageCache = new Map<string, Promise<{ image: string; imageHash: string }>>();

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/** sha256 of a binary, remembered on disk by (path, size, mtime) so a new process does not rehash ~100 MB. */
async function hashBinary(path: string, cacheDir: string): Promise<string> {
  const info = await stat(path);
  const cacheFile = join(cacheDir, "runtime-hashes.json");
  const key = `${path}:${info.size}:${info.mtimeMs}`;
  let cache: Record<string, string> = {};
  try {
    cache = JSON.parse(await readFile(cacheFile, "utf8")) as Record<string, string>;
  } catch {
    // first use
  }
  const known = cache[key];
  if (known) return known;
  const hash = await hashFile(path);
  await mkdir(cacheDir, { recursive: true });
  await writeFile(cacheFile, JSON.stringify({ ...cache, [key]: hash }));
  return hash;
}

/** The runtime that runs a kind of task and the sha256 of its binary, computed once per machine. */
export function runtimeImage(
  kind: "command" | "script",
  cacheDir: string,
): Promise<{ image: string; imageHash: string }> {
  let cached = imageCache.get(kind);
  if (!cached) {
    cached = (async () => {
      if (kind === "script")
        return { image: `node ${process.version}`, imageHash: await hashBinary(process.execPath, cacheDir) };
      const shell = await realpath("/bin/sh");
      return { image: `sh (${shell})`, imageHash: await hashBinary(shell, cacheDir) };
    })();
    cached.catch(() => imageCache.delete(kind));
    imageCache.set(kind, cached);
  }
  return cached;
}

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

/** Collects a stream's first bytes for the task record while the whole stream goes to the log file. */
class LogSink {
  private heads = { o: Buffer.alloc(0), e: Buffer.alloc(0) };
  private seen = { o: 0, e: 0 };
  private partial = { o: "", e: "" };
  private hash = createHash("sha256");
  bytes = 0;
  /** The head keeps this many bytes past LOG_HEAD_BYTES, so a secret value cut by the limit is still masked whole. */
  private readonly extra: number;
  constructor(
    private readonly file: WriteStream,
    private readonly mask: (s: string) => string,
    private readonly secrets: Record<string, string>,
  ) {
    this.extra = Math.max(0, ...maskableSecrets(secrets).map((s) => Buffer.byteLength(s.value)));
  }
  write(stream: "o" | "e", chunk: Buffer): void {
    const head = this.heads[stream];
    const limit = LOG_HEAD_BYTES + this.extra;
    this.seen[stream] += chunk.length;
    if (head.length < limit) this.heads[stream] = Buffer.concat([head, chunk.subarray(0, limit - head.length)]);
    const text = this.partial[stream] + chunk.toString("utf8");
    const lines = text.split("\n");
    this.partial[stream] = lines.pop() ?? "";
    for (const line of lines) this.line(stream, line);
  }
  private line(stream: "o" | "e", line: string): void {
    const out = `${stream}|${this.mask(line)}\n`;
    this.hash.update(out);
    this.bytes += Buffer.byteLength(out);
    this.file.write(out);
  }
  /** The first LOG_HEAD_BYTES of a stream, masked; the end of a cut head never keeps the start of a secret. */
  private head(stream: "o" | "e"): string {
    const raw = this.heads[stream];
    if (!this.extra) return raw.toString("utf8"); // no secrets: the head as it was read
    let text = this.mask(raw.toString("utf8"));
    if (this.seen[stream] > raw.length) text = dropPartialSecret(text, this.secrets);
    const bytes = Buffer.from(text, "utf8");
    return bytes.length <= LOG_HEAD_BYTES ? text : bytes.subarray(0, LOG_HEAD_BYTES).toString("utf8");
  }
  async close(): Promise<{ stdoutHead: string; stderrHead: string; sha: string }> {
    for (const s of ["o", "e"] as const) if (this.partial[s]) this.line(s, this.partial[s]);
    await new Promise<void>((resolve, reject) =>
      this.file.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    return {
      stdoutHead: this.head("o"),
      stderrHead: this.head("e"),
      sha: `sha256:${this.hash.digest("hex")}`,
    };
  }
}

/** The first `size` bytes of a file that is still being written. */
async function readHead(path: string, size: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Parses `$STEPWISE_OUTPUT`: `key=value` lines (optionally `key:number=…`, `:boolean`, `:json`, `:string`). */
export function parseOutputFile(text: string): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (!line.trim() || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const where = `$STEPWISE_OUTPUT line ${i + 1}`;
    if (eq <= 0) throw new Error(`${where}: expected key=value, got ${JSON.stringify(line.slice(0, 80))}`);
    const [key, declared] = line.slice(0, eq).split(":", 2) as [string, string | undefined];
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new Error(`${where}: invalid key ${JSON.stringify(key)}`);
    const rawValue = line.slice(eq + 1);
    const type = (declared ?? "string") as ValueType;
    if (!VALUE_TYPES.includes(type))
      throw new Error(`${where}: unknown type '${declared}' (string, number, boolean, json)`);
    let value: unknown = rawValue;
    if (type === "number") {
      value = Number(rawValue);
      if (rawValue.trim() === "" || !Number.isFinite(value)) throw new Error(`${where}: '${key}' is not a number`);
    } else if (type === "boolean") {
      if (rawValue !== "true" && rawValue !== "false") throw new Error(`${where}: '${key}' is not true or false`);
      value = rawValue === "true";
    } else if (type === "json") {
      try {
        value = JSON.parse(rawValue);
      } catch {
        throw new Error(`${where}: '${key}' is not valid JSON`);
      }
    }
    out[key] = { type, value };
  });
  return out;
}

/** Turns a script's returned object into typed context values. */
export function typedResult(result: unknown): { vars: Record<string, TypedValue>; noAction: string | null } {
  if (result === null || result === undefined) return { vars: {}, noAction: null };
  if (typeof result !== "object" || Array.isArray(result))
    throw new Error("the script must return an object (or nothing)");
  const vars: Record<string, TypedValue> = {};
  let noAction: string | null = null;
  for (const [key, value] of Object.entries(result as Record<string, unknown>)) {
    if (key === "$noAction") {
      noAction = typeof value === "string" && value ? value : "no action";
      continue;
    }
    if (value === undefined) continue;
    vars[key] = { type: typeOfValue(value), value };
  }
  return { vars, noAction };
}

/** Runs one command or script attempt in a fresh directory with a clean environment. */
export async function runTask(
  spec: TaskSpec,
  workRoot: string,
  clock: Clock,
  signal: AbortSignal,
): Promise<TaskOutcome> {
  await mkdir(workRoot, { recursive: true });
  const dir = await mkdtemp(join(workRoot, `${spec.run.id}-${spec.run.nodeId}-`));
  const work = join(dir, "work");
  const outDir = join(work, "out");
  const inDir = join(work, "in");
  await mkdir(outDir, { recursive: true });
  await mkdir(inDir, { recursive: true });
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const { image, imageHash } = await runtimeImage(spec.kind, workRoot);
  const mask = secretMasker(spec.secrets);
  const logPath = join(dir, "task.log");
  const sink = new LogSink(createWriteStream(logPath), mask, spec.secrets);
  const outputFile = join(dir, "output.env");
  const resultFile = join(dir, "result.json");
  const inputFile = join(dir, "input.json");
  await writeFile(outputFile, "");
  await writeFile(
    inputFile,
    JSON.stringify({ params: spec.params, context: spec.context, run: spec.run, secrets: spec.secrets }),
    { mode: 0o600 },
  );
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
  await mkdir(env.TMPDIR as string);
  await writeFile(env.STEPWISE_CONTEXT as string, JSON.stringify(spec.context));
  let argv: string[];
  if (spec.kind === "command") {
    argv = ["/bin/sh", "-c", spec.source];
  } else {
    const scriptPath = join(dir, "script.mjs");
    const runnerPath = join(dir, "runner.mjs");
    await writeFile(scriptPath, spec.source);
    await writeFile(runnerPath, SCRIPT_RUNNER);
    Object.assign(env, { STEPWISE_INPUT: inputFile, STEPWISE_RESULT: resultFile, STEPWISE_SCRIPT: scriptPath });
    argv = [process.execPath, runnerPath];
  }
  if (spec.prepareInputs) {
    try {
      await spec.prepareInputs(inDir);
    } catch (err) {
      await cleanup(); // nothing ran: the caller gets no outcome to clean up with
      throw err;
    }
  }

  const startMs = clock.nowMs();
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: work,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Recovery after a crash of the engine finds the process group here (see stopOrphans).
  // No await between spawn and the listeners below: a fast task could close unobserved.
  if (child.pid) writeFile(join(dir, "pid"), String(child.pid)).catch(() => {});
  child.stdout.on("data", (c: Buffer) => sink.write("o", c));
  child.stderr.on("data", (c: Buffer) => sink.write("e", c));
  let stopReason: "timeout" | "cancelled" | null = null;
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
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
  const exit = await new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.once("error", (err) => resolve({ code: null, spawnError: err }));
    child.once("close", (code) => resolve({ code }));
  });
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
    vars = parseOutputFile(await readFile(outputFile, "utf8"));
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

/**
 * Stops what an attempt left behind when the engine died under it (a SIGKILLed server): its process group,
 * if that process still carries the attempt's run and node in its environment, and its directory.
 */
export async function stopOrphans(workRoot: string, runId: string, nodeId: string): Promise<number> {
  let stopped = 0;
  let entries: string[] = [];
  try {
    entries = await readdir(workRoot);
  } catch {
    return 0;
  }
  for (const entry of entries.filter((e) => e.startsWith(`${runId}-${nodeId}-`))) {
    const dir = join(workRoot, entry);
    const pid = Number(await readFile(join(dir, "pid"), "utf8").catch(() => ""));
    if (pid > 1) {
      const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
      // A recycled pid belongs to someone else: only a process of this very attempt is stopped.
      if (environ.includes(`STEPWISE_RUN_ID=${runId}\0`) && environ.includes(`STEPWISE_NODE_ID=${nodeId}\0`)) {
        try {
          process.kill(-pid, "SIGKILL");
          stopped++;
        } catch {
          // already gone
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
  return stopped;
}
