// End-to-end tests of the dashboard: Debian's Chromium, driven by playwright-core, against the server as
// `npm start` runs it (its own process, with the example workflows). Each test does what a person would do in the browser and checks what they would see.
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServerProcess } from "../support/server-process.ts";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = resolve(import.meta.dirname, "..", "..");
const ARTIFACTS = join(ROOT, "test-artifacts");
const API_KEY = "test-platform-key-0123456789";
const FLOW_TIMEOUT = 120_000;
// Long enough for a run to move through the local Step Functions interpreter on a busy machine.
const STATUS_TIMEOUT = 45_000;

/** `${context.<key>}`, the engine's placeholder syntax (kept out of string literals for the linter). */
const ctx = (key: string): string => "$" + `{context.${key}}`;

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

let stack: ServerProcess;
let dataDir: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** A second person: approvals must come from someone other than whoever started the run. */
let approverContext: BrowserContext;
let approver: Page;

async function api<T = unknown>(method: string, path: string, body?: unknown, key = API_KEY): Promise<T> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function signIn(p: Page, key = API_KEY): Promise<void> {
  await p.goto(`${stack.url}/`);
  await p.getByLabel("API key").fill(key);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.locator(".identity").waitFor();
}

async function go(p: Page, hash: string): Promise<void> {
  await p.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

function runBadge(p: Page) {
  return p.locator("h1.run-title .badge");
}

async function waitForRunStatus(p: Page, status: string, timeout = STATUS_TIMEOUT): Promise<void> {
  await p.locator(`h1.run-title .badge[data-status="${status}"]`).waitFor({ timeout });
}

async function shot(p: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, name);
  await p.screenshot({ path, fullPage: true });
  return path;
}

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`e2e: ${CHROMIUM} not found (apt-get install -y chromium); dashboard e2e skipped`);

// CI installs Chromium (.ci/run): there, a missing browser is a failure, not a reason to skip.
describe.skipIf(!haveChromium && !process.env.CI)("dashboard (e2e, Chromium)", () => {
  beforeAll(async () => {
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
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    const bob = await api<{ key: string }>("POST", "/api/keys", { name: "bob", role: "approver" });
    approverContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    approver = await approverContext.newPage();
    await signIn(approver, bob.key);
  }, 120_000);

  afterAll(async () => {
    await approverContext?.close();
    await browser?.close();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("signs in with an API key from the keyboard and shows the org and role", async () => {
    await page.goto(`${stack.url}/`);
    // The key field has focus on arrival; Enter submits.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 10_000 }).toBe("api-key");
    await page.keyboard.type(API_KEY);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".identity-org").textContent()).toBe("default");
    expect(await page.locator(".role-badge").textContent()).toBe("admin");
    // The key is kept for the tab's session only.
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem("stepwise.apiKey"),
      local: localStorage.length,
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ session: API_KEY, local: 0, cookies: "" });
    await expect.poll(() => page.locator("tr[data-workflow='e2e-report']").count()).toBe(1);
  });

  let runId = "";

  it(
    "triggers a workflow from its form and shows the run waiting for approval, in the DAG and the timeline",
    async () => {
      await go(page, "#/workflows/e2e-report/trigger");
      await page.getByLabel(/^day/).fill("2026-11-20");
      await page.getByLabel(/^limit/).fill("7");
      await page.getByRole("button", { name: "Trigger run" }).click();
      await page.waitForFunction(() => /^#\/runs\/run_/.test(window.location.hash));
      runId = (await page.evaluate(() => window.location.hash)).replace(/^#\/runs\//, "").split(/[/?]/)[0] ?? "";
      expect(runId).toMatch(/^run_/);
      // Set a marker that a full page load would wipe: all later updates must come from polling alone.
      await page.evaluate(() => {
        (window as unknown as { e2eMarker: number }).e2eMarker = 1;
      });

      await waitForRunStatus(page, "awaiting_approval");
      expect(await page.getByTestId("current-state").textContent()).toBe("sign-off");
      await expect
        .poll(() => page.locator('.dag-node[data-node="sign-off"]').getAttribute("data-status"))
        .toBe("awaiting_approval");
      expect(await page.locator('.dag-node[data-node="extract"]').getAttribute("data-status")).toBe("succeeded");
      await page.locator('.tl-row[data-node="sign-off"] .tl-seg[data-kind="human"]').waitFor();
      expect(await page.locator('.tl-row[data-node="extract"] .tl-seg[data-kind="run"]').count()).toBe(1);
      const run = await api<{ parameters: Record<string, unknown> }>("GET", `/api/runs/${runId}`);
      expect(run.parameters).toEqual({ day: "2026-11-20", limit: 7 });

      await shot(page, "run-page-awaiting-approval.png");
    },
    FLOW_TIMEOUT,
  );

  it("does not offer the approval to whoever started the run", async () => {
    expect(runId).not.toBe("");
    const panel = page.locator('[data-human="sign-off"]');
    await panel.waitFor();
    expect(await panel.textContent()).toContain("someone else has to approve it");
    expect(await panel.getByRole("button", { name: "Approve" }).count()).toBe(0);
  });

  it("lists the waiting step in the approvals inbox", async () => {
    expect(runId).not.toBe("");
    await go(approver, "#/approvals");
    const item = approver.locator(`.inbox-item[data-run="${runId}"][data-node="sign-off"]`);
    await item.waitFor({ timeout: 10_000 });
    expect(await item.textContent()).toContain("e2e-report");
    expect(await item.textContent()).toContain("0 of 1 approvals");
    await shot(approver, "approvals-inbox.png");
    await item.getByRole("link", { name: "Review" }).click();
    await approver.waitForFunction((id) => window.location.hash.startsWith(`#/runs/${id}`), runId);
  });

  it(
    "approves from the run page, then rejects an invalid input next to its field and accepts a valid secret",
    async () => {
      expect(runId).not.toBe("");
      await go(approver, `#/runs/${runId}`);
      await waitForRunStatus(approver, "awaiting_approval");
      const panel = approver.locator('.human-steps [data-human="sign-off"]');
      expect(await panel.getByTestId("quorum").textContent()).toBe("0 of 1");
      await panel.getByLabel("Comment").fill("numbers look right");
      await panel.getByRole("button", { name: "Approve" }).click();

      await waitForRunStatus(approver, "awaiting_input");
      const input = approver.locator('.human-steps [data-human="otp"]');
      const code = input.getByLabel(/^code/);
      expect(await code.getAttribute("type")).toBe("password");
      await input.getByLabel(/^channel/).selectOption("slack");
      await code.fill("abc");
      await input.getByRole("button", { name: "Submit" }).click();
      const error = input.locator('[data-field-error="input-otp-code"]');
      await error.waitFor({ timeout: 10_000 });
      expect(await error.textContent()).toContain("pattern");
      expect(await code.getAttribute("aria-invalid")).toBe("true");
      // The run keeps waiting after a rejected input.
      expect(await runBadge(approver).getAttribute("data-status")).toBe("awaiting_input");
      await approver.screenshot({ path: join(ARTIFACTS, "input-error.png"), fullPage: true });

      await code.fill("123456");
      await input.getByRole("button", { name: "Submit" }).click();
      await waitForRunStatus(approver, "succeeded");

      // The first person's page followed all of this by polling, without a reload.
      await waitForRunStatus(page, "succeeded");
      expect(await page.evaluate(() => (window as unknown as { e2eMarker?: number }).e2eMarker)).toBe(1);

      // The decision is on the approval node's evidence.
      await go(page, `#/runs/${runId}?node=sign-off`);
      const decided = page.locator('[data-task="sign-off"] [data-human="sign-off"]');
      await decided.waitFor();
      expect(await decided.textContent()).toContain("bob");
      expect(await decided.textContent()).toContain("numbers look right");
    },
    FLOW_TIMEOUT,
  );

  it(
    "shows the finished run with its logs, context, files, audit and lineage",
    async () => {
      expect(runId).not.toBe("");
      await go(page, `#/runs/${runId}`);
      await waitForRunStatus(page, "succeeded");
      await expect.poll(() => page.locator(".dag-node[data-status='succeeded']").count()).toBe(5);
      await page.locator('[data-testid="timeline"]').screenshot({ path: join(ARTIFACTS, "timeline.png") });
      const runPage = await shot(page, "run-page.png");
      // The README's picture is refreshed on request only, so a test run leaves the tree clean.
      if (process.env.UPDATE_DOCS_SCREENSHOT === "1") await copyFile(runPage, join(ROOT, "docs", "run-page.png"));

      // A node of the graph is a button: Tab to it, Enter, and its evidence opens under a shareable URL.
      await page.locator('.dag-node[data-node="render"]').focus();
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => window.location.hash.endsWith("?node=render"));
      const evidence = page.locator('[data-task="render"]');
      await evidence.waitFor();
      expect(await evidence.textContent()).toContain("echo rows=$ROWS");

      await go(page, `#/runs/${runId}/logs?node=extract`);
      await expect.poll(() => page.getByTestId("logs").textContent()).toContain("extracting 2026-11-20 7");
      await go(page, `#/runs/${runId}/logs`);
      await expect.poll(() => page.getByTestId("logs").textContent()).toContain("rendered");

      await go(page, `#/runs/${runId}/context`);
      const rows = page.locator('[data-testid="context"] tr[data-key="rows"]');
      await rows.waitFor();
      expect(await rows.textContent()).toMatch(/number.*3.*extract/);
      // The secret answer never reaches the context.
      expect(await page.getByTestId("context").textContent()).not.toContain("123456");

      await go(page, `#/runs/${runId}/files`);
      const files = page.locator('[data-testid="files"], .state');
      await files.first().waitFor();
      const file = page.locator('[data-testid="files"] tr[data-file="report.txt"]');
      await file.waitFor();
      expect(await file.textContent()).toMatch(/sha256:[0-9a-f]{12}/);
      expect(await file.textContent()).toContain("render");
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        file.getByRole("button", { name: "Download report.txt" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe("report.txt");

      await go(page, `#/runs/${runId}/audit`);
      await page.locator('[data-testid="audit"]').waitFor();
      expect(await page.getByTestId("audit").textContent()).toContain("run.created");
      await page.screenshot({ path: join(ARTIFACTS, "audit.png"), fullPage: true });
      await expect.poll(() => page.getByTestId("verify").getAttribute("data-valid")).toBe("true");

      await go(page, `#/runs/${runId}/lineage`);
      await page.locator("svg.lineage").waitFor();
      expect(await page.locator(".lin-node").count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(ARTIFACTS, "lineage.png"), fullPage: true });
    },
    FLOW_TIMEOUT,
  );

  it(
    "cancels a running run after a confirmation",
    async () => {
      const { runId: slow } = await api<{ runId: string }>("POST", "/api/workflows/e2e-slow/trigger", {
        parameters: {},
      });
      await go(page, `#/runs/${slow}`);
      await waitForRunStatus(page, "running");
      await page.locator('.dag-node[data-node="nap"][data-status="running"]').waitFor({ timeout: STATUS_TIMEOUT });
      await page.getByRole("button", { name: "Cancel run" }).click();
      const dialog = page.getByRole("dialog", { name: "Cancel this run?" });
      await dialog.getByLabel(/^Reason/).fill("e2e: no need to wait");
      await dialog.getByRole("button", { name: "Cancel run" }).click();
      await waitForRunStatus(page, "cancelled");
      expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
      const run = await api<{ status: string }>("GET", `/api/runs/${slow}`);
      expect(run.status).toBe("cancelled");
    },
    FLOW_TIMEOUT,
  );

  it(
    "starts a job and follows its workflow runs in order",
    async () => {
      await api("PUT", "/api/jobs/e2e-job", {
        description: "hello then bye",
        workflowExecutionOrder: ["e2e-hello", "e2e-bye"],
      });
      await go(page, "#/job-runs");
      const job = page.locator('.job-item[data-job="e2e-job"]');
      await job.waitFor();
      await job.getByRole("button", { name: "Start" }).click();
      await page.waitForFunction(() => /^#\/job-runs\/jr_/.test(window.location.hash));
      await page.locator('h1.run-title .badge[data-status="completed"]').waitFor({ timeout: STATUS_TIMEOUT * 2 });
      const steps = page.locator('[data-testid="job-steps"] > li');
      await expect.poll(() => steps.count()).toBe(2);
      expect(await steps.nth(0).getAttribute("data-workflow")).toBe("e2e-hello");
      expect(await steps.nth(1).getAttribute("data-workflow")).toBe("e2e-bye");
      await expect.poll(() => page.locator('[data-testid="job-steps"] > li[data-status="succeeded"]').count()).toBe(2);
      await shot(page, "job-run.png");
    },
    FLOW_TIMEOUT * 2,
  );

  it("reruns a finished run after a confirmation", async () => {
    expect(runId).not.toBe("");
    await go(page, `#/runs/${runId}`);
    await waitForRunStatus(page, "succeeded");
    await page.getByRole("button", { name: "Rerun" }).click();
    const dialog = page.getByRole("dialog", { name: "Rerun this run?" });
    await dialog.getByRole("button", { name: "Start rerun" }).click();
    await page.waitForFunction(
      (id) => /^#\/runs\/run_/.test(window.location.hash) && !window.location.hash.includes(id),
      runId,
    );
    await page.getByRole("link", { name: runId }).waitFor();
    const rerun = (await page.evaluate(() => window.location.hash)).replace("#/runs/", "");
    const record = await api<{ rerunOf: string; trigger: { type: string } }>("GET", `/api/runs/${rerun}`);
    expect(record).toMatchObject({ rerunOf: runId, trigger: { type: "rerun" } });
  });

  it("says so when a run does not exist", async () => {
    await go(page, "#/runs/run_00000000000000000000000000");
    const error = page.locator(".state-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("Run not found");
  });

  it("hides actions a viewer may not take", async () => {
    const { key } = await api<{ key: string }>("POST", "/api/keys", { name: "vera", role: "viewer" });
    const viewer = await context.browser()?.newContext({ viewport: { width: 1280, height: 900 } });
    if (!viewer) throw new Error("no browser");
    const p = await viewer.newPage();
    try {
      await signIn(p, key);
      expect(await p.locator(".role-badge").textContent()).toBe("viewer");
      await go(p, `#/runs/${runId}`);
      await waitForRunStatus(p, "succeeded");
      expect(await p.getByRole("button", { name: "Rerun" }).count()).toBe(0);
      await go(p, "#/workflows/e2e-report");
      await p.locator("h1").filter({ hasText: "e2e-report" }).waitFor();
      expect(await p.getByRole("link", { name: "Trigger" }).count()).toBe(0);
      expect(await p.getByRole("link", { name: "Trigger run" }).count()).toBe(0);
    } finally {
      await viewer.close();
    }
  });

  it("fits a phone's width without sideways scrolling", async () => {
    const phone = await context.browser()?.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    if (!phone) throw new Error("no browser");
    const p = await phone.newPage();
    try {
      await signIn(p);
      for (const hash of [`#/runs/${runId}`, "#/workflows/e2e-report", "#/runs", "#/approvals"]) {
        await go(p, hash);
        await p.locator("main h1").first().waitFor();
        await p.waitForTimeout(300);
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, hash).toBeLessThanOrEqual(1);
      }
      await go(p, `#/runs/${runId}`);
      await waitForRunStatus(p, "succeeded");
      await shot(p, "run-page-phone.png");
    } finally {
      await phone.close();
    }
  });
});
