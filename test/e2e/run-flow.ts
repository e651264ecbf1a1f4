// The run page flow in the browser: trigger from the form, follow a run through approval and input, its
// evidence tabs, cancel, rerun, jobs, permissions. Registered inside the suite of dashboard.test.ts.
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import {
  API_KEY,
  ARTIFACTS,
  api,
  approver,
  context,
  FLOW_TIMEOUT,
  go,
  page,
  ROOT,
  runBadge,
  STATUS_TIMEOUT,
  shot,
  signIn,
  stack,
  waitForRunStatus,
} from "./support.ts";

/** The run flow's tests, in order (later ones use the run the first one starts). */
export function runFlowTests(): void {
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
      // The server requires every field unless it says `required: false`: the form says so too.
      expect(await input.locator('label[for="input-otp-channel"]').textContent()).toContain("required");
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
      // A command node's identity is the shell that ran it and that binary's hash.
      expect(await evidence.textContent()).toMatch(/Runtime\s*sh \(\/.+\).*Runtime hash\s*sha256:[0-9a-f]{12}/s);

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
      // Start opens the job's parameter form (one group per workflow); these workflows take none.
      await job.getByRole("button", { name: "Start…" }).click();
      const form = job.getByRole("form", { name: "Start e2e-job" });
      await form.waitFor();
      expect(await form.locator("fieldset legend").allTextContents()).toEqual([
        "e2e-hello · no parameters",
        "e2e-bye · no parameters",
      ]);
      await form.getByRole("button", { name: "Start job run" }).click();
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
    const viewer = await context.browser()?.newContext({ viewport: { width: 1440, height: 900 } });
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
      // Schedules and subscriptions are readable; creating them, and the keys page, are not offered.
      expect(await p.getByRole("link", { name: "Keys" }).count()).toBe(0);
      await go(p, "#/schedules");
      await p.locator("main h1").filter({ hasText: "Schedules" }).waitFor();
      expect(await p.getByRole("button", { name: "New schedule" }).count()).toBe(0);
      await go(p, "#/subscriptions");
      await p.locator("main h1").filter({ hasText: "Subscriptions" }).waitFor();
      expect(await p.getByRole("form", { name: "New subscription" }).count()).toBe(0);
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
}
