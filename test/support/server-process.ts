// The real service as `npm start` runs it (`node --import tsx local/main.ts`), in a child process on a test's own
// data directory: for tests that must see the product from outside (crash-restart, the browser suite).
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

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
      opts.startTimeoutMs ?? 30_000,
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

function withoutKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { STEPWISE_API_KEY: _k, ...rest } = env;
  return rest;
}
