// Test support: an embedded Stepwise stack in a temp dir, driven over HTTP as a user would.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import type { Deps } from "../../shared/deps.ts";
import { pollUntil } from "./poll.ts";

/** A parsed JSON response body; tests check its shape with assertions. */
export type Json = any;

export const TERMINAL = ["succeeded", "no_action", "failed", "cancelled"] as const;
/** A timestamp as the contract writes them: UTC, microseconds. */
export const MICRO_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
export const HASH = /^sha256:[0-9a-f]{64}$/;

export interface ApiResult {
  status: number;
  body: Json;
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  method?: string;
  /** A value sent as JSON (application/json). */
  body?: unknown;
  /** A raw body sent as is, with `contentType` (default application/json). */
  raw?: string;
  contentType?: string;
  /** The bearer key; defaults to the stack's platform key; null sends no Authorization header. */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface TestStack {
  url: string;
  apiKey: string;
  dataDir: string;
  /** Where task directories are created (a folder of the temp dir). */
  workRoot: string;
  embedded: EmbeddedStack;
  deps: Deps;
  /** One HTTP request to the API; JSON bodies are parsed. */
  api(path: string, opts?: RequestOptions): Promise<ApiResult>;
  /** Like `api` but fails the test unless the status is `expected`; returns the body. */
  json(path: string, opts?: RequestOptions & { expect?: number }): Promise<Json>;
  /** PUTs a workflow definition; returns {name, version, definitionHash}. */
  putWorkflow(def: { name: string } & Record<string, unknown>, key?: string): Promise<Json>;
  /** Triggers a workflow by name; returns the runId. */
  trigger(name: string, parameters?: Record<string, unknown>, key?: string): Promise<string>;
  /** Polls a run until its status is one of `statuses` (default: any terminal one); returns the run. */
  waitForRun(runId: string, statuses?: readonly string[], opts?: { key?: string; timeoutMs?: number }): Promise<Json>;
  /** Polls until the run is terminal and its evidence root is sealed (nothing about it changes after that). */
  waitForSealed(runId: string, opts?: { key?: string }): Promise<Json>;
  /** Polls until `check` returns a truthy value. */
  waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs?: number): Promise<T>;
  /** PUT + trigger + wait until terminal; returns the run and its tasks by node id. */
  runToEnd(
    def: { name: string } & Record<string, unknown>,
    parameters?: Record<string, unknown>,
  ): Promise<{ run: Json; tasks: Record<string, Json> }>;
  /** Creates a key of the platform's org (or of the org of `asKey`) with a role; returns the secret key. */
  createKey(role: "admin" | "operator" | "approver" | "viewer", name?: string, asKey?: string): Promise<string>;
  /** Creates another org; returns its admin key. */
  createOrg(orgId: string): Promise<string>;
  stop(): Promise<void>;
}

export const PLATFORM_KEY = "test-platform-key-0123456789abcdef";

/** Starts an embedded stack in a fresh temp dir (port 0, no examples). */
export async function startStack(opts: { settings?: Partial<Deps["settings"]> } = {}): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), "stepwise-test-"));
  const workRoot = join(dataDir, "work");
  const embedded = await startEmbedded({
    dataDir,
    port: 0,
    apiKey: PLATFORM_KEY,
    examplesDir: null,
    settings: { workRoot, cancelPollMs: 100, ...opts.settings },
  });
  const url = embedded.url;

  async function api(path: string, o: RequestOptions = {}): Promise<ApiResult> {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? PLATFORM_KEY : o.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (o.raw !== undefined) {
      body = o.raw;
      headers["content-type"] = o.contentType ?? "application/json";
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] = o.contentType ?? "application/json";
    }
    const res = await fetch(`${url}${path}`, { method: o.method ?? (body ? "POST" : "GET"), headers, body });
    const text = await res.text();
    let parsed: Json = null;
    if ((res.headers.get("content-type") ?? "").includes("application/json") && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed, text, headers: res.headers };
  }

  async function json(path: string, o: RequestOptions & { expect?: number } = {}): Promise<Json> {
    const res = await api(path, o);
    const want = o.expect ?? (o.method && o.method !== "GET" ? undefined : 200);
    if (want !== undefined ? res.status !== want : res.status >= 300) {
      throw new Error(`${o.method ?? "GET"} ${path}: expected ${want ?? "2xx"}, got ${res.status}: ${res.text}`);
    }
    return res.body;
  }

  async function waitFor<T>(
    what: string,
    check: () => Promise<T | null | undefined | false>,
    // Generous: a loaded machine (parallel suites on two cores) slows everything; vitest's own limit is 60 s.
    timeoutMs = 50_000,
  ): Promise<T> {
    return pollUntil(what, check, timeoutMs);
  }

  const self: TestStack = {
    url,
    apiKey: PLATFORM_KEY,
    dataDir,
    workRoot,
    embedded,
    deps: embedded.deps,
    api,
    json,
    waitFor,
    async putWorkflow(def, key) {
      return json(`/api/workflows/${def.name}`, { method: "PUT", body: def, key });
    },
    async trigger(name, parameters = {}, key) {
      const res = await json(`/api/workflows/${name}/trigger`, {
        method: "POST",
        body: { parameters },
        key,
        expect: 202,
      });
      return res.runId as string;
    },
    async waitForRun(runId, statuses = TERMINAL, o = {}) {
      let last: Json = null;
      try {
        return await waitFor(
          `run ${runId} to be ${statuses.join("|")}`,
          async () => {
            last = await json(`/api/runs/${runId}`, { key: o.key });
            return statuses.includes(last.status) ? last : null;
          },
          o.timeoutMs,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
      }
    },
    async waitForSealed(runId, o = {}) {
      await self.waitForRun(runId, TERMINAL, o);
      return waitFor(`run ${runId} to be sealed`, async () => {
        const run = await json(`/api/runs/${runId}`, { key: o.key });
        return run.root ? run : null;
      });
    },
    async runToEnd(def, parameters = {}) {
      await self.putWorkflow(def);
      const runId = await self.trigger(def.name, parameters);
      const run = await self.waitForRun(runId);
      const list = await json(`/api/runs/${runId}/tasks`);
      const tasks: Record<string, Json> = {};
      for (const t of list.items) tasks[t.nodeId] = t;
      return { run, tasks };
    },
    async createKey(role, name = `${role}-user`, asKey) {
      const res = await json("/api/keys", { method: "POST", body: { name, role }, key: asKey, expect: 201 });
      return res.key as string;
    },
    async createOrg(orgId) {
      const res = await json("/api/orgs", { method: "POST", body: { orgId }, expect: 201 });
      return res.key as string;
    },
    async stop() {
      await embedded.stop();
      // A task directory or log may still be closing as the stack stops: retry instead of failing on ENOTEMPTY.
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
  return self;
}

/** A minimal command workflow. */
export const commandWorkflow = (name: string, command: string, extra: Record<string, unknown> = {}) => ({
  name,
  nodes: [{ id: "main", type: "command", command, ...extra }],
});

/** Pids of live processes in a process group (the runner starts each task in its own group). */
export async function processGroup(pgid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields: state, ppid, pgrp, ...; a zombie (Z) is already dead.
      if (Number(fields[2]) === pgid && fields[0] !== "Z") out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}
