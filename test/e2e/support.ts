// The browser suite's shared state and helpers: one server (as `npm start` runs it), one Chromium, the signed-in
// pages, and the fixtures. Bindings are live: the test modules see the values `startE2E` assigns.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { type ServerProcess, startServerProcess } from "../support/server-process.ts";

const CHROMIUM = "/usr/bin/chromium";
export const ROOT = resolve(import.meta.dirname, "..", "..");
/** Where screenshots go (git-ignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts", "screenshots");
export const API_KEY = "test-platform-key-0123456789";
export const FLOW_TIMEOUT = 120_000;
// Long enough for a run to move through the local Step Functions interpreter on a busy machine.
export const STATUS_TIMEOUT = 45_000;

/** `${context.<key>}`, the engine's placeholder syntax (kept out of string literals for the linter). */
export const ctx = (key: string): string => "$" + `{context.${key}}`;

const REPORT_WORKFLOW = {
  name: "e2e-report",
  description: "Extract, render, sign off, enter a code, publish.",
  parameters: { day: { type: "string", required: true }, limit: { type: "number", default: 10 } },
  nodes: [
    {
      id: "extract",
      type: "script",
      runtime: "node",
      code: "export default async ({ params }) => { console.log('extracting', params.day, params.limit); return { rows: 3, day: params.day }; }",
    },
    {
      id: "render",
      type: "command",
      needs: ["extract"],
      command: "echo rows=$ROWS > out/report.txt; echo summary=ok >> $STEPWISE_OUTPUT; echo rendered",
      env: { ROWS: ctx("rows") },
    },
    { id: "sign-off", type: "approval", needs: ["render"], approvers: { count: 1 } },
    {
      id: "otp",
      type: "input",
      needs: ["sign-off"],
      fields: {
        code: { type: "string", secret: true, required: true, pattern: "^[0-9]{6}$" },
        channel: { type: "enum", values: ["email", "slack"] },
      },
    },
    { id: "publish", type: "command", needs: ["otp"], inputs: ["report.txt"], command: "cat in/report.txt" },
  ],
};

const SLOW_WORKFLOW = {
  name: "e2e-slow",
  nodes: [{ id: "nap", type: "command", command: "echo napping; sleep 60", timeoutSeconds: 120 }],
};

const HELLO_WORKFLOWS = ["e2e-hello", "e2e-bye"].map((name) => ({
  name,
  nodes: [
    { id: "greet", type: "script", runtime: "node", code: `export default async () => ({ said: "${name}" })` },
    { id: "echo", type: "command", needs: ["greet"], command: "echo said=$SAID", env: { SAID: ctx("said") } },
  ],
}));

export let stack: ServerProcess;
let dataDir: string;
export let browser: Browser;
export let context: BrowserContext;
export let page: Page;
/** A second person: approvals must come from someone other than whoever started the run. */
let approverContext: BrowserContext;
export let approver: Page;

export async function api<T = unknown>(method: string, path: string, body?: unknown, key = API_KEY): Promise<T> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function signIn(p: Page, key = API_KEY): Promise<void> {
  await p.goto(`${stack.url}/`);
  await p.getByLabel("API key").fill(key);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.locator(".identity").waitFor();
}

export async function go(p: Page, hash: string): Promise<void> {
  await p.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

export function runBadge(p: Page) {
  return p.locator("h1.run-title .badge");
}

export async function waitForRunStatus(p: Page, status: string, timeout = STATUS_TIMEOUT): Promise<void> {
  await p.locator(`h1.run-title .badge[data-status="${status}"]`).waitFor({ timeout });
}

export async function shot(p: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, name);
  await p.screenshot({ path, fullPage: true });
  return path;
}

/** Builds the dashboard, starts the server and Chromium, and signs in a second person (an approver). */
export async function startE2E(): Promise<void> {
  // Always build: the server serves dashboard/dist, and a stale build would test yesterday's UI.
  await build({ configFile: join(ROOT, "dashboard", "vite.config.ts"), logLevel: "warn" });
  await mkdir(ARTIFACTS, { recursive: true });
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-e2e-"));
  await mkdir(join(dataDir, "tmp"));
  stack = await startServerProcess({
    dataDir,
    apiKey: API_KEY,
    examplesDir: join(ROOT, "examples"),
    env: { TMPDIR: join(dataDir, "tmp") },
  });
  for (const wf of [REPORT_WORKFLOW, SLOW_WORKFLOW, ...HELLO_WORKFLOWS])
    await api("PUT", `/api/workflows/${wf.name}`, wf);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  const bob = await api<{ key: string }>("POST", "/api/keys", { name: "bob", role: "approver" });
  approverContext = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  approver = await approverContext.newPage();
  await signIn(approver, bob.key);
}

/** Stops what startE2E started. */
export async function stopE2E(): Promise<void> {
  await approverContext?.close();
  await browser?.close();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
