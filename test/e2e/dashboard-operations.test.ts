// The dashboard's operations in Chromium against the real server: Restart from failure on a failed run's page, the
// cancel reason in the run header, the queue of a concurrency-limited workflow, and Archive on the workflow page.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServerProcess } from "../support/server-process.ts";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = resolve(import.meta.dirname, "..", "..");
const API_KEY = "test-platform-key-operations-0123456789";

let server: ServerProcess;
let dataDir: string;
let browser: Browser;
let page: Page;

async function api<T = { [k: string]: unknown }>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function runUntil(runId: string, statuses: string[]): Promise<void> {
  await expect
    .poll(async () => (await api<{ status: string }>("GET", `/api/runs/${runId}`)).status, { timeout: 45_000 })
    .toSatisfy((s: string) => statuses.includes(s));
}

const haveChromium = existsSync(CHROMIUM);

// CI installs Chromium (.ci/run): there, a missing browser is a failure, not a reason to skip.
describe.skipIf(!haveChromium && !process.env.CI)("dashboard operations (e2e, Chromium)", () => {
  beforeAll(async () => {
    await build({ configFile: join(ROOT, "dashboard", "vite.config.ts"), logLevel: "warn" });
    dataDir = await mkdtemp(join(tmpdir(), "stepwise-e2e-ops-"));
    await mkdir(join(dataDir, "tmp"));
    const examplesDir = join(dataDir, "no-examples");
    server = await startServerProcess({ dataDir, apiKey: API_KEY, examplesDir, env: { TMPDIR: join(dataDir, "tmp") } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu"],
    });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${server.url}/`);
    await page.getByLabel("API key").fill(API_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".identity").waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("restarts a failed run from its page; the new run says what it restarted", async () => {
    await api("PUT", "/api/workflows/ops-fail", {
      name: "ops-fail",
      nodes: [
        { id: "first", type: "command", command: "echo first" },
        { id: "second", type: "command", needs: ["first"], command: "test -f ../never && echo ok" },
      ],
    });
    const { runId } = await api<{ runId: string }>("POST", "/api/workflows/ops-fail/trigger", {});
    await runUntil(runId, ["failed"]);
    await page.evaluate((h) => {
      window.location.hash = h;
    }, `#/runs/${runId}`);
    await page.getByRole("button", { name: "Restart from failure" }).click();
    await expect.poll(() => page.evaluate(() => window.location.hash), { timeout: 15_000 }).not.toContain(runId);
    await expect
      .poll(() => page.locator("dl.facts").textContent(), { timeout: 15_000 })
      .toContain(`Restart of${runId}`);
  });

  it("shows a cancel's reason in the run header", async () => {
    await api("PUT", "/api/workflows/ops-wait", { name: "ops-wait", nodes: [{ id: "ok", type: "approval" }] });
    const { runId } = await api<{ runId: string }>("POST", "/api/workflows/ops-wait/trigger", {});
    await runUntil(runId, ["awaiting_approval"]);
    await api("POST", `/api/runs/${runId}/cancel`, { reason: "wrong day" });
    await page.evaluate((h) => {
      window.location.hash = h;
    }, `#/runs/${runId}`);
    await expect
      .poll(() => page.getByTestId("cancel-reason").textContent(), { timeout: 15_000 })
      .toBe("by platform: wrong day");
  });

  it("lists the queue of a concurrency-limited workflow and archives it", async () => {
    await api("PUT", "/api/workflows/ops-lane", {
      name: "ops-lane",
      concurrency: { limit: 1 },
      nodes: [{ id: "ok", type: "approval" }],
    });
    const first = await api<{ runId: string }>("POST", "/api/workflows/ops-lane/trigger", {});
    await runUntil(first.runId, ["awaiting_approval"]);
    const second = await api<{ runId: string }>("POST", "/api/workflows/ops-lane/trigger", {});
    await page.evaluate(() => {
      window.location.hash = "#/workflows/ops-lane";
    });
    const queue = page.getByTestId("workflow-queue");
    await expect.poll(() => queue.textContent(), { timeout: 15_000 }).toContain(second.runId);
    expect(await queue.textContent()).toContain("concurrency limit");

    await page.getByRole("button", { name: "Archive", exact: true }).click();
    await page.locator(".confirm-inline").getByRole("button", { name: "Archive" }).click();
    await expect.poll(() => page.evaluate(() => window.location.hash), { timeout: 15_000 }).toBe("#/workflows");
    expect((await api<{ archived: boolean }>("GET", "/api/workflows/ops-lane")).archived).toBe(true);
    await api("POST", `/api/runs/${first.runId}/cancel`, {});
    await api("POST", `/api/runs/${second.runId}/cancel`, {});
  });
});
