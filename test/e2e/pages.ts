// The browser suite for the pages around runs: schedules, webhooks, subscriptions and deliveries, keys, run
// compare and export, the definition view, a job's parameter form, and the fixes (reject asks for a reason,
// every attempt of a retried task, the runs table at 1440 px, phone widths). Registered inside the suite of
// dashboard.test.ts; screenshots go to test-artifacts/screenshots/.
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  API_KEY,
  api,
  approver,
  browser,
  FLOW_TIMEOUT,
  go,
  page,
  STATUS_TIMEOUT,
  shot,
  signIn,
  waitForRunStatus,
} from "./support.ts";

const marker = `/tmp/e2e-flaky-${process.pid}-${Date.now()}`;
const FLAKY = {
  name: "e2e-flaky",
  nodes: [
    {
      id: "try",
      type: "command",
      // Fails the first time (no marker yet), succeeds on the retry.
      command: `if [ -f ${marker} ]; then echo second time lucky; else touch ${marker}; echo not yet >&2; exit 3; fi`,
      retry: { maxAttempts: 3, backoffSeconds: 1 },
    },
  ],
};
const PARAM = {
  name: "e2e-param",
  parameters: { x: { type: "string", required: true } },
  nodes: [{ id: "write", type: "command", command: "echo $X > out/x.txt", env: { X: "$" + "{params.x}" } }],
};
const FAN = {
  name: "e2e-fan",
  nodes: [
    { id: "start", type: "command", command: "echo go" },
    ...["alpha", "beta", "gamma", "delta"].map((b) => ({
      id: `branch-${b}`,
      type: "command",
      needs: ["start"],
      command: `echo ${b}`,
    })),
    {
      id: "join",
      type: "command",
      needs: ["branch-alpha", "branch-beta", "branch-gamma", "branch-delta"],
      command: "echo",
    },
  ],
};

async function trigger(workflow: string, parameters: Record<string, unknown> = {}): Promise<string> {
  return (await api<{ runId: string }>("POST", `/api/workflows/${workflow}/trigger`, { parameters })).runId;
}

async function waitForApiRun(runId: string, statuses: string[]): Promise<void> {
  await expect
    .poll(async () => (await api<{ status: string }>("GET", `/api/runs/${runId}`)).status, { timeout: STATUS_TIMEOUT })
    .toSatisfy((s: string) => statuses.includes(s));
}

/** The page is no wider than the viewport it was given (isMobile widens the layout viewport to fit the content). */
async function horizontalOverflow(p: Page, width: number): Promise<number> {
  return p.evaluate((w) => document.documentElement.scrollWidth - w, width);
}

/** The new pages' tests, in order. */
export function pageTests(): void {
  let receiver: Server;
  let received: { headers: Record<string, unknown>; body: string }[] = [];
  let receiverUrl = "";
  let compareA = "";
  let compareB = "";
  let fanRun = "";

  beforeAll(async () => {
    for (const wf of [FLAKY, PARAM, FAN]) await api("PUT", `/api/workflows/${wf.name}`, wf);
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  });
  afterAll(async () => {
    await new Promise((r) => receiver?.close(r));
  });

  it(
    "asks for a reason before rejecting, and records it as the decision's comment",
    async () => {
      const runId = await api<{ runId: string }>("POST", "/api/workflows/e2e-report/trigger", {
        parameters: { day: "2026-11-21" },
      }).then((r) => r.runId);
      await go(approver, `#/runs/${runId}`);
      await waitForRunStatus(approver, "awaiting_approval");
      const panel = approver.locator('.human-steps [data-human="sign-off"]');
      await panel.getByRole("button", { name: "Reject…" }).click();
      const dialog = approver.getByRole("dialog", { name: "Reject sign-off?" });
      await dialog.getByRole("button", { name: "Reject" }).click();
      // No reason, no rejection: the dialog says why and the run keeps waiting.
      await dialog.getByText("Say why you reject it").waitFor();
      expect((await api<{ status: string }>("GET", `/api/runs/${runId}`)).status).toBe("awaiting_approval");
      await dialog.getByLabel(/^Reason/).fill("numbers are off by one");
      await shot(approver, "reject-dialog.png");
      await dialog.getByRole("button", { name: "Reject" }).click();
      await waitForRunStatus(approver, "failed");
      const audit = await api<{ items: { type: string; detail: Record<string, unknown> }[] }>(
        "GET",
        `/api/runs/${runId}/audit`,
      );
      const decision = audit.items.find((e) => e.detail?.decision === "reject");
      expect(decision?.detail.comment).toBe("numbers are off by one");
      await go(approver, `#/runs/${runId}?node=sign-off`);
      const decided = approver.locator('[data-task="sign-off"] [data-human="sign-off"]');
      await decided.waitFor();
      expect(await decided.textContent()).toContain("numbers are off by one");
    },
    FLOW_TIMEOUT,
  );

  it(
    "shows every attempt of a retried task with its outcome",
    async () => {
      const runId = await trigger("e2e-flaky");
      await go(page, `#/runs/${runId}?node=try`);
      await waitForRunStatus(page, "succeeded");
      const attempts = page.locator('[data-testid="attempts"] li');
      await expect.poll(() => attempts.count(), { timeout: 10_000 }).toBe(2);
      expect(await attempts.nth(0).getAttribute("data-status")).toBe("failed");
      expect(await attempts.nth(0).textContent()).toContain("exit 3");
      expect(await attempts.nth(1).getAttribute("data-status")).toBe("succeeded");
      await attempts.nth(0).getByText("Output of attempt 1").click();
      expect(await attempts.nth(0).locator("pre.stderr").textContent()).toContain("not yet");
      expect(await page.locator('[data-task="try"] .fact').first().textContent()).toContain("2 of 3");
      await shot(page, "task-attempts.png");
    },
    FLOW_TIMEOUT,
  );

  it("creates a schedule, refuses a bad cron next to its field, disables and edits it", async () => {
    await go(page, "#/schedules");
    await page.getByRole("button", { name: "New schedule" }).click();
    const form = page.getByRole("form", { name: "New schedule" });
    await form.getByLabel(/^Name/).fill("e2e-daily");
    await form.getByLabel(/^Workflow/).fill("e2e-hello");
    await form.getByLabel(/^Cron/).fill("not a cron");
    await form.getByLabel(/^Time zone/).fill("Europe/Berlin");
    await form.getByRole("button", { name: "Create schedule" }).click();
    await form.locator('[data-field-error="sched-cron"]').waitFor();
    expect(await form.locator('[data-field-error="sched-cron"]').textContent()).toContain("5 fields");
    await form.getByLabel(/^Cron/).fill("0 9 * * MON-FRI");
    await form.getByRole("button", { name: "Create schedule" }).click();
    await page.waitForFunction(() => window.location.hash === "#/schedules/e2e-daily");
    await page.getByTestId("next-fire").waitFor();
    expect(await page.getByTestId("last-result").textContent()).toContain("never fired");

    await page.getByRole("button", { name: "Disable e2e-daily" }).click();
    await page.getByRole("button", { name: "Enable e2e-daily" }).waitFor();
    expect((await api<{ enabled: boolean }>("GET", "/api/schedules/e2e-daily")).enabled).toBe(false);

    const edit = page.getByRole("form", { name: "Edit e2e-daily" });
    await edit.getByLabel(/^Cron/).fill("30 10 * * *");
    await edit.getByRole("button", { name: "Save schedule" }).click();
    await page.getByText("Saved.").waitFor();
    const saved = await api<{ cron: string; timezone: string; enabled: boolean }>("GET", "/api/schedules/e2e-daily");
    expect(saved).toMatchObject({ cron: "30 10 * * *", timezone: "Europe/Berlin", enabled: false });

    await go(page, "#/schedules");
    const row = page.locator('tr[data-schedule="e2e-daily"]');
    await row.waitFor();
    expect(await row.getAttribute("data-enabled")).toBe("false");
    await row.getByRole("button", { name: "Enable e2e-daily" }).click();
    await page.locator('tr[data-schedule="e2e-daily"][data-enabled="true"]').waitFor();
    await row.getByTestId("next-fire").locator("time").waitFor();
    await shot(page, "schedules.png");
  });

  it("creates a webhook whose secret is shown once and signs a real request, then revokes it", async () => {
    await go(page, "#/workflows/e2e-hello/webhooks");
    await page.getByLabel(/^Description/).fill("e2e caller");
    await page.getByRole("button", { name: "Create webhook" }).click();
    const secret = await page.getByTestId("secret-value").inputValue();
    expect(secret).toMatch(/^whsec_/);
    const url = (await page.getByTestId("webhook-url").textContent()) ?? "";
    expect(url).toMatch(/\/hooks\/wh_/);
    await shot(page, "webhook-created.png");
    await page.getByRole("button", { name: "I have saved it" }).click();
    expect(await page.getByTestId("secret-value").count()).toBe(0);
    const webhookId = url.split("/hooks/")[1] ?? "";
    await page.locator(`tr[data-webhook="${webhookId}"]`).waitFor();
    // The secret the page showed is the one the service checks: a request signed with it starts a run. Signed
    // GitHub's way (hex HMAC-SHA256 of the body), which the service accepts beside Standard Webhooks.
    const send = async () => {
      const body = "{}";
      const hmac = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      return fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hub-signature-256": hmac,
          "x-github-delivery": `e2e-${Date.now()}-${Math.random()}`,
        },
        body,
      });
    };
    expect((await send()).status).toBe(202);
    await page.getByRole("button", { name: `Revoke ${webhookId}` }).click();
    await page
      .getByRole("dialog", { name: "Revoke this webhook?" })
      .getByRole("button", { name: "Revoke webhook" })
      .click();
    await expect.poll(() => page.locator(`tr[data-webhook="${webhookId}"]`).count()).toBe(0);
    expect((await send()).status).not.toBe(202);
  });

  it(
    "subscribes to events (secret shown once), lists deliveries and redelivers one",
    async () => {
      received = [];
      await go(page, "#/subscriptions");
      const form = page.getByRole("form", { name: "New subscription" });
      await form.getByLabel(/^Name/).fill("e2e-sub");
      await form.getByLabel(/^URL/).fill(receiverUrl);
      await form.getByLabel("run.failed", { exact: true }).uncheck();
      await form.getByLabel("run.succeeded", { exact: true }).check();
      await form.getByRole("button", { name: "Save subscription" }).click();
      expect(await page.getByTestId("secret-value").inputValue()).toMatch(/^whsec_/);
      await page.getByRole("button", { name: "I have saved it" }).click();
      await page.locator('tr[data-subscription="e2e-sub"]').waitFor();
      await shot(page, "subscriptions.png");

      const runId = await trigger("e2e-hello");
      await waitForApiRun(runId, ["succeeded"]);
      // The delivery is queued after the run ends: open the page once an attempt has succeeded on record.
      const deliveries = () =>
        api<{ items: Array<{ status: string }> }>("GET", "/api/subscriptions/e2e-sub/deliveries");
      await expect
        .poll(async () => (await deliveries()).items.some((d) => d.status === "succeeded"), {
          timeout: STATUS_TIMEOUT,
        })
        .toBe(true);
      await go(page, "#/subscriptions/e2e-sub");
      const rows = page.locator("tr[data-delivery]");
      await expect.poll(() => rows.count(), { timeout: STATUS_TIMEOUT }).toBeGreaterThan(0);
      await page.locator('tr[data-delivery][data-status="succeeded"]').first().waitFor({ timeout: STATUS_TIMEOUT });
      expect(received.length).toBeGreaterThan(0);
      // Signed: Standard Webhooks' header (contract v1.1) or the service's earlier one.
      const signed = received[0]?.headers["webhook-signature"] ?? received[0]?.headers["stepwise-signature"];
      expect(String(signed)).toMatch(/v1[,=]/);
      // The succeeded row: under load another event's delivery may still be queued at the top of the list.
      const done = page.locator('tr[data-delivery][data-status="succeeded"]').first();
      const first = (await done.getAttribute("data-delivery")) ?? "";
      await done.getByRole("button", { name: "Attempts" }).click();
      await expect
        .poll(() => page.locator("tr.row-detail").textContent(), { timeout: STATUS_TIMEOUT })
        .toContain("200");
      const before = received.length;
      await page.getByRole("button", { name: `Redeliver ${first}` }).click();
      await page.getByText(`redelivery of ${first}`).waitFor({ timeout: STATUS_TIMEOUT });
      await expect.poll(() => received.length, { timeout: STATUS_TIMEOUT }).toBeGreaterThan(before);
      await shot(page, "deliveries.png");
    },
    FLOW_TIMEOUT,
  );

  it("creates an API key shown once, which works until it is revoked", async () => {
    await go(page, "#/keys");
    const form = page.getByRole("form", { name: "New key" });
    await form.getByLabel(/^Name/).fill("e2e-ci");
    await form.getByLabel(/^Role/).selectOption("operator");
    await form.getByRole("button", { name: "Create key" }).click();
    const key = await page.getByTestId("secret-value").inputValue();
    expect((await api<{ role: string }>("GET", "/api/whoami", undefined, key)).role).toBe("operator");
    await shot(page, "keys.png");
    await page.getByRole("button", { name: "I have saved it" }).click();
    const row = page.locator('tr[data-key-name="e2e-ci"]');
    await row.waitFor();
    await row.getByRole("button", { name: "Revoke e2e-ci" }).click();
    await page.getByRole("dialog", { name: "Revoke key e2e-ci?" }).getByRole("button", { name: "Revoke key" }).click();
    await expect.poll(() => row.count()).toBe(0);
    await expect(api("GET", "/api/whoami", undefined, key)).rejects.toThrow(/401/);
  });

  it(
    "compares two runs task by task and exports a run's bundle",
    async () => {
      compareA = await trigger("e2e-param", { x: "one" });
      compareB = await trigger("e2e-param", { x: "two" });
      await waitForApiRun(compareA, ["succeeded"]);
      await waitForApiRun(compareB, ["succeeded"]);
      await go(page, `#/runs/${compareA}`);
      await waitForRunStatus(page, "succeeded");
      await page.getByRole("link", { name: "Compare" }).first().click();
      await page.getByLabel(/^Other run/).fill(compareB);
      await page.getByRole("button", { name: "Compare", exact: true }).click();
      await page.waitForFunction((b) => window.location.hash.includes(`with=${b}`), compareB);
      await expect.poll(() => page.getByTestId("compare-verdict").textContent()).toBe("differs");
      const row = page.locator('[data-testid="compare-tasks"] tr[data-node="write"]');
      expect(await row.getAttribute("data-match")).toBe("false");
      expect(await row.textContent()).toMatch(/differs/);
      await shot(page, "run-compare.png");

      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Export bundle" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`${compareA}.tar.gz`);
    },
    FLOW_TIMEOUT,
  );

  it("shows a workflow's definition as JSON and as YAML", async () => {
    await go(page, "#/workflows/e2e-report/definition");
    const def = page.getByTestId("definition");
    await def.waitFor();
    expect(await def.textContent()).toContain('"id": "extract"');
    await page.getByRole("button", { name: "YAML" }).click();
    await expect.poll(() => def.textContent()).toContain("- id: extract");
    await shot(page, "workflow-definition.png");
  });

  it(
    "starts a job from its parameter form, prefilled with the job's own values",
    async () => {
      await api("PUT", "/api/jobs/e2e-param-job", {
        workflowExecutionOrder: ["e2e-param"],
        parameters: { "e2e-param": { x: "from-job" } },
      });
      await go(page, "#/job-runs");
      const job = page.locator('.job-item[data-job="e2e-param-job"]');
      await job.getByRole("button", { name: "Start…" }).click();
      const x = job.getByLabel(/^x/);
      await expect.poll(() => x.inputValue()).toBe("from-job");
      await x.fill("typed");
      await shot(page, "job-start-form.png");
      await job.getByRole("button", { name: "Start job run" }).click();
      await page.waitForFunction(() => /^#\/job-runs\/jr_/.test(window.location.hash));
      const jobRunId = (await page.evaluate(() => window.location.hash)).replace("#/job-runs/", "");
      await page.locator('h1.run-title .badge[data-status="completed"]').waitFor({ timeout: STATUS_TIMEOUT * 2 });
      const jr = await api<{ workflowRuns: { runId: string }[] }>("GET", `/api/job-runs/${jobRunId}`);
      const run = await api<{ parameters: Record<string, unknown> }>("GET", `/api/runs/${jr.workflowRuns[0]?.runId}`);
      expect(run.parameters).toEqual({ x: "typed" });
    },
    FLOW_TIMEOUT * 2,
  );

  it("gives the runs table room at 1440 px: one line per row, no sideways scrolling", async () => {
    fanRun = await trigger("e2e-fan");
    await waitForApiRun(fanRun, ["succeeded"]);
    await go(page, "#/runs");
    await page.locator("tr[data-run]").first().waitFor();
    expect(page.viewportSize()?.width).toBe(1440);
    const fit = await page.evaluate(() => {
      const wrap = document.querySelector(".table-wrap") as HTMLElement;
      const rows = Array.from(document.querySelectorAll("tr[data-run]")).map((r) => r.getBoundingClientRect().height);
      return { scroll: wrap.scrollWidth - wrap.clientWidth, tallest: Math.max(...rows) };
    });
    expect(fit.scroll).toBe(0);
    // A row of badges and one-line cells is about 44 px; a wrapped cell would make it 60 or more.
    expect(fit.tallest).toBeLessThan(56);
    await shot(page, "runs-1440.png");
  });

  it(
    "fits every page to a phone: parallel branches scaled into view, the job run page 390 px wide",
    async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      const p = await phone.newPage();
      try {
        await signIn(p, API_KEY);
        const jobRuns = await api<{ items: { jobRunId: string }[] }>("GET", "/api/job-runs?limit=1");
        const pages: [string, string][] = [
          [`#/runs/${fanRun}`, "phone-run-parallel.png"],
          [`#/job-runs/${jobRuns.items[0]?.jobRunId}`, "phone-job-run.png"],
          ["#/schedules", "phone-schedules.png"],
          ["#/schedules/e2e-daily", "phone-schedule.png"],
          ["#/subscriptions", "phone-subscriptions.png"],
          ["#/subscriptions/e2e-sub", "phone-deliveries.png"],
          ["#/keys", "phone-keys.png"],
          ["#/workflows/e2e-report/definition", "phone-definition.png"],
          ["#/workflows/e2e-hello/webhooks", "phone-webhooks.png"],
          [`#/runs/${compareA}/compare?with=${compareB}`, "phone-compare.png"],
          ["#/job-runs", "phone-jobs.png"],
        ];
        for (const [hash, file] of pages) {
          await go(p, hash);
          await p.locator("main h1").first().waitFor();
          await p.waitForTimeout(500);
          expect(await horizontalOverflow(p, 390), hash).toBeLessThanOrEqual(0);
          await shot(p, file);
        }
        // The DAG with four parallel branches is drawn whole inside its card, not clipped at the edge.
        await go(p, `#/runs/${fanRun}`);
        await p.locator('.dag-node[data-node="join"]').waitFor();
        const graph = await p.evaluate(() => {
          const box = document.querySelector(".graph-scroll") as HTMLElement;
          const frame = box.getBoundingClientRect();
          const nodes = Array.from(document.querySelectorAll(".dag-node")).map((n) => n.getBoundingClientRect());
          return {
            scroll: box.scrollWidth - box.clientWidth,
            inside: nodes.every((r) => r.left >= frame.left - 1 && r.right <= frame.right + 1),
          };
        });
        expect(graph).toEqual({ scroll: 0, inside: true });
      } finally {
        await phone.close();
      }
    },
    FLOW_TIMEOUT,
  );
}
