// Shared helpers of the evidence tests: an embedded stack, a tiny API client and a run poller.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";

export const API_KEY = "evidence-test-platform-key-0123456789";

export interface TestStack {
  stack: EmbeddedStack;
  dataDir: string;
  api: Api;
  close(): Promise<void>;
}

export type Json = any;

export interface Api {
  call(
    method: string,
    path: string,
    body?: unknown,
    key?: string,
  ): Promise<{ status: number; body: Json; res: Response }>;
  get(path: string, key?: string): Promise<Json>;
}

/** Starts the embedded stack in a fresh directory with fast polling. */
export async function startTestStack(): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "stepwise-evidence-"));
  const stack = await startEmbedded({
    dataDir,
    port: 0,
    apiKey: API_KEY,
    examplesDir: null,
    settings: { cancelPollMs: 50, workRoot: join(dataDir, "work") },
  });
  const api: Api = {
    async call(method, path, body, key = API_KEY) {
      const res = await fetch(`${stack.url}${path}`, {
        method,
        redirect: "manual",
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const type = res.headers.get("content-type") ?? "";
      const parsed = type.includes("json") ? await res.json() : res.status === 302 ? null : await res.text();
      return { status: res.status, body: parsed, res };
    },
    async get(path, key) {
      const r = await api.call("GET", path, undefined, key);
      if (r.status !== 200) throw new Error(`GET ${path} → ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    },
  };
  return {
    stack,
    dataDir,
    api,
    async close() {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The test file's stack: started before its tests (hooks registered after this call run after the start) and
 * stopped after them. The returned object is filled in when the stack has started.
 */
export function useTestStack(): TestStack {
  const t = {} as TestStack;
  beforeAll(async () => {
    Object.assign(t, await startTestStack());
  }, 60_000);
  afterAll(async () => {
    await t.close?.();
  });
  return t;
}

/** A fresh directory under the stack's data directory, to run the CLI in (its exports land there). */
export function cliDir(t: TestStack): Promise<string> {
  return mkdtemp(join(t.dataDir, "cli-"));
}

const TERMINAL = ["succeeded", "failed", "cancelled", "no_action"];

/** Polls a run until `done(run)` holds (default: terminal), at most `timeoutMs`. */
export async function waitForRun(
  api: Api,
  runId: string,
  done = (r: Json) => TERMINAL.includes(r.status),
  timeoutMs = 30_000,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await api.get(`/api/runs/${runId}`);
    if (done(run)) return run;
    if (Date.now() > until) throw new Error(`run ${runId} is still ${run.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls one task until `done(task)` holds. */
export async function waitForTask(
  api: Api,
  runId: string,
  nodeId: string,
  done: (t: Json) => boolean,
  timeoutMs = 30_000,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const task = await api.get(`/api/runs/${runId}/tasks/${nodeId}`);
    if (done(task)) return task;
    if (Date.now() > until) throw new Error(`task ${nodeId} of ${runId} is still ${task.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Puts a workflow and triggers it; returns the run id. */
export async function putAndTrigger(
  api: Api,
  def: { name: string; nodes: unknown[] },
  parameters: Record<string, unknown> = {},
) {
  const put = await api.call("PUT", `/api/workflows/${def.name}`, def);
  if (put.status !== 201 && put.status !== 200)
    throw new Error(`PUT workflow → ${put.status}: ${JSON.stringify(put.body)}`);
  const trig = await api.call("POST", `/api/workflows/${def.name}/trigger`, { parameters });
  if (trig.status !== 202) throw new Error(`trigger → ${trig.status}: ${JSON.stringify(trig.body)}`);
  return { runId: trig.body.runId as string, definitionHash: put.body.definitionHash as string };
}

/** Triggers a run and waits for it to end. */
export async function runToEnd(
  api: Api,
  def: { name: string; nodes: unknown[] },
  parameters: Record<string, unknown> = {},
) {
  const { runId } = await putAndTrigger(api, def, parameters);
  return waitForRun(api, runId);
}

/** Runs the CLI in process against the test stack; returns its exit code and output. */
export async function cli(t: TestStack, cwd: string, ...args: string[]) {
  const { main } = await import("../../cli/main.ts");
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: { on: () => {}, off: () => {}, resume: () => {}, pause: () => {} },
    env: { url: t.stack.url, apiKey: API_KEY, noColor: true },
    cwd,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    now: () => Date.now(),
    pollMs: 50,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
