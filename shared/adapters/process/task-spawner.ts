import { type ChildProcess, spawn } from "node:child_process";

/**
 * How a task's process is started:
 * - "direct": spawned by this process (the Lambda, or the local server);
 * - "helper": spawned by a small long-lived Node process on request. Forking a big process (the embedded server,
 *   its emulators and their caches) copies its page tables and blocks its event loop for milliseconds per task; the
 *   helper is small, so a spawn costs it a fraction of that and the server's loop is not held up. The task is the
 *   same process either way: same argv, directory, environment, process group, and output (relayed).
 */
export type TaskSpawn = "direct" | "helper";

/** A started task process, however it was spawned. */
export interface TaskProcess {
  /** Called with each chunk of the task's stdout ("o") and stderr ("e"), in order. */
  onOutput(cb: (stream: "o" | "e", chunk: Buffer) => void): void;
  /** The process id once known (the process group the task leads), null if it could not start. */
  readonly pid: Promise<number | null>;
  /** Resolves when the process has exited and its output is closed; spawnError if it never started. */
  readonly exited: Promise<{ code: number | null; spawnError?: Error }>;
  /** Signals the task's whole process group (a no-op once it is gone). */
  killGroup(signal: NodeJS.Signals): void;
}

export type Spawner = (argv: string[], opts: { cwd: string; env: Record<string, string> }) => TaskProcess;

function signalGroup(pid: number | null, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Spawns the task from this process: detached (its own process group), output piped. */
export const directSpawn: Spawner = (argv, opts) => {
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Listeners go on before any await: a fast task could otherwise close unobserved.
  const exited = new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.once("error", (err) => resolve({ code: null, spawnError: err }));
    child.once("close", (code) => resolve({ code }));
  });
  const pid = child.pid ?? null;
  return {
    onOutput(cb) {
      child.stdout?.on("data", (c: Buffer) => cb("o", c));
      child.stderr?.on("data", (c: Buffer) => cb("e", c));
    },
    pid: Promise.resolve(pid),
    exited,
    killGroup: (signal) => signalGroup(pid, signal),
  };
};

/**
 * The helper's program (CommonJS, run with `node -e`, no loader): spawns what it is asked to over its IPC channel and
 * relays the pid, the output chunks and the exit; exits when the server that started it goes away.
 */
const HELPER_SOURCE = `"use strict";
const { spawn } = require("node:child_process");
process.on("disconnect", () => process.exit(0));
process.on("message", (m) => {
  let sent = false;
  const exit = (code, error) => {
    if (sent) return;
    sent = true;
    process.send({ id: m.id, t: "exit", code, error });
  };
  let child;
  try {
    child = spawn(m.argv[0], m.argv.slice(1), { cwd: m.cwd, env: m.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    process.send({ id: m.id, t: "pid", pid: null });
    exit(null, String((err && err.message) || err));
    return;
  }
  process.send({ id: m.id, t: "pid", pid: child.pid ?? null });
  child.stdout.on("data", (c) => process.send({ id: m.id, t: "o", c }));
  child.stderr.on("data", (c) => process.send({ id: m.id, t: "e", c }));
  child.once("error", (err) => exit(null, err.message));
  child.once("close", (code) => exit(code));
});
`;

type HelperMessage =
  | { id: number; t: "pid"; pid: number | null }
  | { id: number; t: "o" | "e"; c: Uint8Array }
  | { id: number; t: "exit"; code: number | null; error?: string };

interface Pending {
  output: Array<(stream: "o" | "e", chunk: Buffer) => void>;
  pid: (pid: number | null) => void;
  exited: (r: { code: number | null; spawnError?: Error }) => void;
  knownPid: number | null;
}

/** A long-lived helper process that spawns tasks on request (started on first use, restarted if it dies). */
export class TaskSpawner {
  private helper: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;

  /** Starts the helper now rather than on the first task. */
  warm(): void {
    this.ensure();
  }

  readonly spawn: Spawner = (argv, opts) => {
    const id = ++this.seq;
    let resolvePid: (pid: number | null) => void = () => {};
    let resolveExit: (r: { code: number | null; spawnError?: Error }) => void = () => {};
    const pid = new Promise<number | null>((r) => {
      resolvePid = r;
    });
    const exited = new Promise<{ code: number | null; spawnError?: Error }>((r) => {
      resolveExit = r;
    });
    const entry: Pending = { output: [], pid: resolvePid, exited: resolveExit, knownPid: null };
    if (this.closed) {
      resolvePid(null);
      resolveExit({ code: null, spawnError: new Error("the task spawner is closed") });
    } else {
      this.pending.set(id, entry);
      const helper = this.ensure();
      helper.send({ id, argv, cwd: opts.cwd, env: opts.env });
      this.ref(true);
    }
    return {
      onOutput: (cb) => entry.output.push(cb),
      pid,
      exited,
      // Before the pid is known the signal waits for it: a cancel right after the request still reaches the task.
      killGroup: (signal) => {
        if (entry.knownPid !== null) signalGroup(entry.knownPid, signal);
        else void pid.then((p) => signalGroup(p, signal));
      },
    };
  };

  /** Stops the helper; tasks it started keep running (as the direct spawner's would when the server stops). */
  close(): void {
    this.closed = true;
    this.helper?.kill();
    this.helper = null;
  }

  private ensure(): ChildProcess {
    if (this.helper) return this.helper;
    const helper = spawn(process.execPath, ["-e", HELPER_SOURCE], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
      env: { LANG: "C.UTF-8", TZ: "UTC" },
    });
    helper.on("message", (m: HelperMessage) => this.onMessage(m));
    helper.once("exit", () => this.onHelperExit(helper));
    helper.once("error", () => this.onHelperExit(helper));
    this.helper = helper;
    this.ref(this.pending.size > 0);
    return helper;
  }

  private onMessage(m: HelperMessage): void {
    const entry = this.pending.get(m.id);
    if (!entry) return;
    if (m.t === "pid") {
      entry.knownPid = m.pid;
      entry.pid(m.pid);
    } else if (m.t === "exit") {
      this.pending.delete(m.id);
      entry.exited(m.error === undefined ? { code: m.code } : { code: null, spawnError: new Error(m.error) });
      if (this.pending.size === 0) this.ref(false);
    } else {
      const chunk = Buffer.from(m.c.buffer, m.c.byteOffset, m.c.byteLength);
      for (const cb of entry.output) cb(m.t, chunk);
    }
  }

  /** A helper that died takes its relays with it: its tasks are killed and fail as not started cleanly. */
  private onHelperExit(helper: ChildProcess): void {
    if (this.helper === helper) this.helper = null;
    for (const [id, entry] of this.pending) {
      signalGroup(entry.knownPid, "SIGKILL");
      entry.pid(entry.knownPid);
      entry.exited({ code: null, spawnError: new Error("the task spawner process exited") });
      this.pending.delete(id);
    }
  }

  /** The helper keeps this process alive only while tasks are out. */
  private ref(on: boolean): void {
    const h = this.helper;
    if (!h) return;
    if (on) {
      h.ref();
      h.channel?.ref();
    } else {
      h.unref();
      h.channel?.unref();
    }
  }
}
