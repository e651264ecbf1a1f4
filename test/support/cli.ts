// Test support: the real `stepwise` binary run as a user's shell would, against a test server, and the checks of
// what a person at the terminal sees.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/stepwise.js", import.meta.url));

/** What a finished command left: its exit code and everything it printed. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process still running: what it printed so far, and its result once it exits. */
export interface LiveCli {
  child: ChildProcess;
  out: () => string;
  done: Promise<CliResult>;
}

/** Which server the CLI talks to, with whose key, and the folder it runs in (where relative file names resolve). */
export interface CliTarget {
  url: string;
  apiKey: string;
  cwd: string;
}

/** Starts `node bin/stepwise.js …` with the target's URL and key; stdin is not a terminal, stdout is a pipe. */
export function startCli(target: CliTarget, ...args: string[]): LiveCli {
  const env: NodeJS.ProcessEnv = { ...process.env, STEPWISE_URL: target.url, STEPWISE_API_KEY: target.apiKey };
  // The test's own environment must not point the CLI elsewhere or colour what it prints.
  delete env.STEPWISE_DATA_DIR;
  delete env.FORCE_COLOR;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: target.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, out: () => stdout, done };
}

/** Runs `node bin/stepwise.js …` to its end, as a user's shell would. */
export function runCli(target: CliTarget, ...args: string[]): Promise<CliResult> {
  return startCli(target, ...args).done;
}

/** A command that worked: exit 0, nothing on stderr; returns what it printed. */
export function expectOk(res: CliResult): string {
  expect(res.stderr, res.stderr).toBe("");
  expect(res.code).toBe(0);
  return res.stdout;
}

/** A user-facing failure: non-zero exit, `error: …` first on stderr, and no stack trace anywhere. */
export function expectCleanError(res: CliResult, message: RegExp): void {
  expect(res.code).not.toBe(0);
  expect(res.stderr).toMatch(/^error: /);
  expect(res.stderr.split("\n")[0]).toMatch(message);
  expect(res.stderr).not.toMatch(/\n\s+at /);
  expect(res.stdout).toBe("");
}
