// The real service as `npm start` runs it (`node --import tsx local/main.ts`), in a child process on a test's own
// data directory: for tests that must see the product from outside (crash-restart, the browser suite).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Json } from "./stack.ts";

const REPO = resolve(import.meta.dirname, "..", "..");
const LISTENING = /Stepwise listening on (http:\/\/\S+)/;

export interface ServerProcess {
  child: ChildProcess;
  /** The base URL the server printed (the real port when asked for port 0). */
  url: string;
  /** Everything the server printed so far, stdout and stderr. */
  output(): string;
  /** Sends the signal and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServerOptions {
  dataDir: string;
  /** Without one, the server generates a key (or reuses the one saved in the data dir). */
  apiKey?: string;
  examplesDir: string;
  /** 0 lets the system pick; the printed URL says which port it got. */
  port?: number;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/** Starts the server and resolves once it says it listens; rejects with its output if it exits or hangs. */
export async function startServerProcess(opts: ServerOptions): Promise<ServerProcess> {
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
    cwd: REPO,
    env: {
      ...withoutKey(process.env),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      STEPWISE_DATA_DIR: opts.dataDir,
      STEPWISE_PORT: String(opts.port ?? 0),
      ...(opts.apiKey ? { STEPWISE_API_KEY: opts.apiKey } : {}),
      STEPWISE_EXAMPLES_DIR: opts.examplesDir,
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Whatever happens to the test, its server does not outlive it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`the server did not start:\n${output}`)),
      opts.startTimeoutMs ?? 90_000, // a cold start on a runner busy with other suites
    );
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
      const m = LISTENING.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((res) => child.once("exit", () => res()));
      child.kill(signal);
      await exited;
    },
  };
}

/** A restart test's folders: the data dir, an empty examples dir, and the tasks' TMPDIR inside the data dir. */
export interface ServerDirs {
  dataDir: string;
  examplesDir: string;
  tmpDir: string;
  /** Starts the server on these folders, its tasks' directories under `tmpDir`. */
  start(opts?: Omit<ServerOptions, "dataDir" | "examplesDir">): Promise<ServerProcess>;
  /** Removes the data dir (with the TMPDIR) and the examples dir. */
  remove(): Promise<void>;
}

/** Makes fresh temp folders for a server process, named after `prefix`. */
export async function makeServerDirs(prefix: string): Promise<ServerDirs> {
  const dataDir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const examplesDir = await mkdtemp(join(tmpdir(), `${prefix}-examples-`));
  const tmpDir = join(dataDir, "tmp");
  await mkdir(tmpDir);
  return {
    dataDir,
    examplesDir,
    tmpDir,
    start: (opts = {}) => startServerProcess({ ...opts, dataDir, examplesDir, env: { TMPDIR: tmpDir, ...opts.env } }),
    async remove() {
      await rm(dataDir, { recursive: true, force: true });
      await rm(examplesDir, { recursive: true, force: true });
    },
  };
}

/** One request to a server's API as `key`; anything but 2xx throws with the server's answer; JSON is parsed. */
export async function serverApi(
  baseUrl: string,
  key: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Json> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${key}`,
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : text;
}

function withoutKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { STEPWISE_API_KEY: _k, ...rest } = env;
  return rest;
}

/** A TCP port free on 127.0.0.1 right now, for a server process the test starts and restarts on the same port. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
}
