// Jobs and job runs through the HTTP API of the embedded stack, asserting what a user sees.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import { startJobRunFor } from "../../shared/jobs/job-runs.ts";
import { requestJson } from "../support/http.ts";

const API_KEY = "test-platform-key-jobs-0123456789";
const TERMINAL_JOB = ["completed", "failed", "cancelled"];
const TERMINAL_RUN = ["succeeded", "no_action", "failed", "cancelled"];

let stack: EmbeddedStack;
let dataDir: string;
let gateDir: string;

interface Res {
  status: number;
  body: any;
}

const api = (method: string, path: string, body?: unknown, key = API_KEY): Promise<Res> =>
  requestJson(`${stack.url}${path}`, key, method, body);

/** Polls `read` until `done` holds (a status poll, not a timed assertion). */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

const getJobRun = async (id: string) => (await api("GET", `/api/job-runs/${id}`)).body;
const waitJobRun = (id: string) =>
  until(
    () => getJobRun(id),
    (jr) => TERMINAL_JOB.includes(jr.status),
    `job run ${id}`,
  );
const runsOf = async (jobRunId: string) => (await api("GET", `/api/runs?jobRunId=${jobRunId}`)).body.items;
/** Every job-run status change, as a run-event subscriber of the stack sees it. */
const jobRunChanges: string[] = [];
/** The job run's execution has ended (nothing more can start). */
const executionEnded = (id: string) =>
  until(
    async () => stack.deps.jobOrchestrator.isRunning?.(id),
    (running) => running === false,
    `execution of ${id}`,
  );

/**
 * A workflow whose one command waits for a gate file (when given one) and then exits with `code`: 0 succeeds,
 * 1 fails, 78 is no_action. The test opens gates to move job runs along exactly when it wants.
 */
const stepWorkflow = (name: string, description?: string) => ({
  name,
  ...(description ? { description } : {}),
  parameters: { gate: { type: "string", default: "" }, code: { type: "number", default: 0 } },
  nodes: [
    {
      id: "work",
      type: "command",
      command: 'if [ -n "$GATE" ]; then while [ ! -f "$GATE" ]; do sleep 0.05; done; fi; echo "step $STEP"; exit $CODE',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the engine's own ${params.x} references
      env: { GATE: "${params.gate}", CODE: "${params.code}", STEP: name },
    },
  ],
});
const gate = (name: string) => join(gateDir, name);
const open = (name: string) => writeFile(gate(name), "open");

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-jobs-data-"));
  gateDir = await mkdtemp(join(tmpdir(), "stepwise-jobs-gates-"));
  stack = await startEmbedded({
    dataDir,
    port: 0,
    apiKey: API_KEY,
    examplesDir: null,
    subscribers: [
      {
        name: "test",
        onJobRunChange: async (jr, from) => {
          jobRunChanges.push(`${jr.jobRunId} ${from ?? "-"}>${jr.status}`);
        },
      },
    ],
  });
  for (const wf of ["step-a", "step-b", "step-c"]) {
    const res = await api("PUT", `/api/workflows/${wf}`, stepWorkflow(wf));
    expect(res.status).toBe(201);
  }
  const chain = await api("PUT", "/api/jobs/chain", {
    description: "three steps",
    workflowExecutionOrder: ["step-a", "step-b", "step-c"],
  });
  expect(chain.status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(gateDir, { recursive: true, force: true });
});

describe("jobs", () => {
  it("stores a job, returns it, lists it, and replaces it with 200", async () => {
    const got = await api("GET", "/api/jobs/chain");
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      name: "chain",
      description: "three steps",
      workflowExecutionOrder: ["step-a", "step-b", "step-c"],
      parameters: {},
      createdBy: "platform",
    });
    expect(got.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const put = await api("PUT", "/api/jobs/pair", {
      workflowExecutionOrder: ["step-a", "step-b"],
      parameters: { "step-b": { code: 0 } },
    });
    expect(put.status).toBe(201);
    const again = await api("PUT", "/api/jobs/pair", { workflowExecutionOrder: ["step-b", "step-a"] });
    expect(again.status).toBe(200);
    expect(again.body.workflowExecutionOrder).toEqual(["step-b", "step-a"]);
    expect(again.body.createdAt).toBe(put.body.createdAt);

    const list = await api("GET", "/api/jobs");
    expect(list.status).toBe(200);
    expect(list.body.items.map((j: { name: string }) => j.name)).toEqual(["chain", "pair"]);
    const page = await api("GET", "/api/jobs?limit=1");
    expect(page.body.items).toHaveLength(1);
    const next = await api("GET", `/api/jobs?limit=1&cursor=${page.body.nextCursor}`);
    expect(next.body.items[0].name).toBe("pair");
  });

  it("rejects an unknown workflow, an empty order and bad parameters with 400 naming them", async () => {
    const unknown = await api("PUT", "/api/jobs/bad", { workflowExecutionOrder: ["step-a", "no-such-wf"] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("validation_failed");
    expect(unknown.body.error.message).toContain("no-such-wf");
    expect(unknown.body.error.details).toEqual([
      { path: "workflowExecutionOrder.1", message: "unknown workflow 'no-such-wf'" },
    ]);

    const empty = await api("PUT", "/api/jobs/bad", { workflowExecutionOrder: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain("workflowExecutionOrder");

    const missing = await api("PUT", "/api/jobs/bad", { description: "no order" });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].path).toBe("workflowExecutionOrder");

    const stranger = await api("PUT", "/api/jobs/bad", {
      workflowExecutionOrder: ["step-a"],
      parameters: { "step-c": { code: 1 } },
    });
    expect(stranger.status).toBe(400);
    expect(stranger.body.error.message).toContain("step-c");

    const mistyped = await api("PUT", "/api/jobs/bad", {
      workflowExecutionOrder: ["step-a"],
      parameters: { "step-a": { code: "one", nope: 1 } },
    });
    expect(mistyped.status).toBe(400);
    expect(mistyped.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      "parameters.step-a.code",
      "parameters.step-a.nope",
    ]);

    expect((await api("PUT", "/api/jobs/Bad_Name", { workflowExecutionOrder: ["step-a"] })).status).toBe(400);
    expect((await api("GET", "/api/jobs/bad")).status).toBe(404);
    expect((await api("POST", "/api/jobs/bad/runs", {})).status).toBe(404);
    const badRunParams = await api("POST", "/api/jobs/chain/runs", { parameters: { "step-b": { code: "x" } } });
    expect(badRunParams.status).toBe(400);
    expect(badRunParams.body.error.details[0].path).toBe("parameters.step-b.code");
    // Nothing was created by the rejected run.
    expect((await api("GET", "/api/job-runs?job=chain")).body.items).toEqual([]);
  });

  it("needs the operator role to define and run jobs, and keeps them inside the org", async () => {
    const viewer = (await api("POST", "/api/keys", { name: "vera", role: "viewer" })).body.key as string;
    expect((await api("GET", "/api/jobs/chain", undefined, viewer)).status).toBe(200);
    expect((await api("PUT", "/api/jobs/chain", { workflowExecutionOrder: ["step-a"] }, viewer)).status).toBe(403);
    expect((await api("POST", "/api/jobs/chain/runs", {}, viewer)).status).toBe(403);

    const acme = (await api("POST", "/api/orgs", { orgId: "acme-jobs" })).body.key as string;
    expect((await api("GET", "/api/jobs/chain", undefined, acme)).status).toBe(404);
    expect((await api("GET", "/api/jobs", undefined, acme)).body.items).toEqual([]);
    // Another org's workflows are unknown here.
    expect((await api("PUT", "/api/jobs/x", { workflowExecutionOrder: ["step-a"] }, acme)).status).toBe(400);
  });
});

describe("job runs", () => {
  it("runs three workflows in order, each a run with trigger type job, and completes", async () => {
    const started = await api("POST", "/api/jobs/chain/runs", {});
    expect(started.status).toBe(202);
    expect(started.body).toEqual({ jobRunId: expect.stringMatching(/^jr_[0-9A-Z]{26}$/), status: "pending" });
    const jr = await waitJobRun(started.body.jobRunId);
    expect(jr).toMatchObject({
      jobRunId: started.body.jobRunId,
      job: "chain",
      status: "completed",
      createdBy: "platform",
    });
    expect(jr.completedAt).toMatch(/\.\d{6}Z$/);
    expect(jr.workflowRuns.map((w: { workflow: string; status: string }) => [w.workflow, w.status])).toEqual([
      ["step-a", "succeeded"],
      ["step-b", "succeeded"],
      ["step-c", "succeeded"],
    ]);

    const runs = await runsOf(jr.jobRunId);
    expect(runs).toHaveLength(3);
    const byId = new Map(runs.map((r: { runId: string }) => [r.runId, r]));
    const ordered = jr.workflowRuns.map((w: { runId: string }) => byId.get(w.runId) as any);
    for (const [i, run] of ordered.entries()) {
      expect(run.workflow.name).toBe(["step-a", "step-b", "step-c"][i]);
      expect(run.jobRunId).toBe(jr.jobRunId);
      expect(run.trigger).toEqual({ type: "job", userId: "platform", jobName: "chain" });
      expect(run.status).toBe("succeeded");
      expect(run.workflow.definitionHash).toBe(jr.jobConfigJsonSnapshot.workflows[i].definitionHash);
    }
    // The order, by the runs' own times: each started after the previous one ended.
    expect(ordered[1].startedAt > ordered[0].completedAt).toBe(true);
    expect(ordered[2].startedAt > ordered[1].completedAt).toBe(true);
    expect(ordered[1].createdAt > ordered[0].completedAt).toBe(true);
    expect(jr.completedAt >= ordered[2].completedAt).toBe(true);
    const full = (await api("GET", `/api/runs/${ordered[0].runId}`)).body;
    expect(full.jobRunId).toBe(jr.jobRunId);
  });

  it("halts at a failed workflow run: the third never starts", async () => {
    const started = await api("POST", "/api/jobs/chain/runs", { parameters: { "step-b": { code: 1 } } });
    const jr = await waitJobRun(started.body.jobRunId);
    expect(jr.status).toBe("failed");
    expect(jr.workflowRuns.map((w: { status: string }) => w.status)).toEqual(["succeeded", "failed", "not_started"]);
    expect(jr.workflowRuns[2]).toEqual({ workflow: "step-c", runId: null, status: "not_started" });
    expect(jr.error.message).toContain("step-b");
    await executionEnded(jr.jobRunId);
    const runs = await runsOf(jr.jobRunId);
    expect(runs.map((r: { workflow: { name: string } }) => r.workflow.name).sort()).toEqual(["step-a", "step-b"]);
    expect(jr.jobConfigJsonSnapshot.parameters).toEqual({ "step-b": { code: 1 } });
  });

  it("goes on after a no_action workflow run", async () => {
    const started = await api("POST", "/api/jobs/chain/runs", { parameters: { "step-b": { code: 78 } } });
    const jr = await waitJobRun(started.body.jobRunId);
    expect(jr.status).toBe("completed");
    expect(jr.workflowRuns.map((w: { status: string }) => w.status)).toEqual(["succeeded", "no_action", "succeeded"]);
    expect(await runsOf(jr.jobRunId)).toHaveLength(3);
  });

  it("stays in_progress while a workflow run waits for approval, and completes once approved", async () => {
    const signOff = {
      name: "sign-off",
      nodes: [
        { id: "prepare", type: "command", command: "echo prepared" },
        { id: "approve", type: "approval", needs: ["prepare"], approvers: { count: 1 } },
      ],
    };
    expect((await api("PUT", "/api/workflows/sign-off", signOff)).status).toBe(201);
    expect(
      (await api("PUT", "/api/jobs/approved-chain", { workflowExecutionOrder: ["step-a", "sign-off", "step-c"] }))
        .status,
    ).toBe(201);
    // The platform key started the job run, so someone else must approve (self-approval is refused).
    const approver = await api("POST", "/api/keys", { name: "alice", role: "approver" });
    expect(approver.status).toBe(201);

    const id = (await api("POST", "/api/jobs/approved-chain/runs", {})).body.jobRunId as string;
    const waiting = await until(
      () => getJobRun(id),
      (jr) => jr.workflowRuns[1]?.status === "awaiting_approval",
      "sign-off awaiting approval",
    );
    expect(waiting.status).toBe("in_progress");
    expect(waiting.completedAt).toBeNull();
    expect(waiting.workflowRuns).toEqual([
      { workflow: "step-a", runId: expect.stringMatching(/^run_/), status: "succeeded" },
      { workflow: "sign-off", runId: expect.stringMatching(/^run_/), status: "awaiting_approval" },
    ]);
    const runId = waiting.workflowRuns[1].runId as string;
    const run = (await api("GET", `/api/runs/${runId}`)).body;
    expect(run).toMatchObject({ status: "awaiting_approval", currentStateName: "approve", jobRunId: id });
    // The third workflow has not started while the second waits.
    const listed = await runsOf(id);
    expect(listed.map((r: { workflow: { name: string } }) => r.workflow.name).sort()).toEqual(["sign-off", "step-a"]);
    // Listed among the job runs in progress, and the run among the approvals waiting for someone.
    const inProgress = (await api("GET", "/api/job-runs?job=approved-chain&status=in_progress")).body.items;
    expect(inProgress.map((j: { jobRunId: string }) => j.jobRunId)).toEqual([id]);
    const inbox = (await api("GET", "/api/approvals?status=pending", undefined, approver.body.key)).body.items;
    expect(inbox.map((a: { runId: string; nodeId: string }) => `${a.runId}/${a.nodeId}`)).toContain(`${runId}/approve`);

    const decided = await api(
      "POST",
      `/api/runs/${runId}/approvals/approve`,
      { decision: "approve", comment: "looks right" },
      approver.body.key,
    );
    expect(decided.status).toBe(200);
    const jr = await waitJobRun(id);
    expect(jr.status).toBe("completed");
    expect(jr.workflowRuns.map((w: { workflow: string; status: string }) => `${w.workflow}:${w.status}`)).toEqual([
      "step-a:succeeded",
      "sign-off:succeeded",
      "step-c:succeeded",
    ]);
    const runs = await Promise.all(
      jr.workflowRuns.map(async (w: { runId: string }) => (await api("GET", `/api/runs/${w.runId}`)).body),
    );
    // In order: each workflow run started after the one before it ended (the third only after the approval).
    expect(runs[1].startedAt > runs[0].completedAt).toBe(true);
    expect(runs[2].startedAt > runs[1].completedAt).toBe(true);
    expect(runs.every((r: { jobRunId: string }) => r.jobRunId === id)).toBe(true);
    await executionEnded(id);
  });

  it("keeps its snapshot when the job and a workflow change while it runs", async () => {
    const before = (await api("GET", "/api/workflows/step-b")).body;
    const started = await api("POST", "/api/jobs/chain/runs", {
      parameters: { "step-a": { gate: gate("edit-a") } },
    });
    const id = started.body.jobRunId;
    const snapshot = (await getJobRun(id)).jobConfigJsonSnapshot;
    expect(snapshot).toEqual({
      name: "chain",
      description: "three steps",
      workflowExecutionOrder: ["step-a", "step-b", "step-c"],
      parameters: { "step-a": { gate: gate("edit-a") } },
      workflows: [
        { name: "step-a", version: 1, definitionHash: expect.stringMatching(/^sha256:/) },
        { name: "step-b", version: before.version, definitionHash: before.definitionHash },
        { name: "step-c", version: 1, definitionHash: expect.stringMatching(/^sha256:/) },
      ],
    });
    await until(
      () => getJobRun(id),
      (jr) => jr.workflowRuns[0]?.status === "running",
      "step-a running",
    );

    const editedJob = await api("PUT", "/api/jobs/chain", {
      description: "edited",
      workflowExecutionOrder: ["step-c"],
    });
    expect(editedJob.status).toBe(200);
    const editedWf = await api("PUT", "/api/workflows/step-b", stepWorkflow("step-b", "edited meanwhile"));
    expect(editedWf.status).toBe(201);
    expect(editedWf.body.definitionHash).not.toBe(before.definitionHash);
    await open("edit-a");

    const jr = await waitJobRun(id);
    expect(jr.status).toBe("completed");
    expect(jr.jobConfigJsonSnapshot).toEqual(snapshot);
    expect(jr.workflowRuns.map((w: { workflow: string }) => w.workflow)).toEqual(["step-a", "step-b", "step-c"]);
    const stepB = (await api("GET", `/api/runs/${jr.workflowRuns[1].runId}`)).body;
    expect(stepB.workflow).toEqual({ name: "step-b", version: before.version, definitionHash: before.definitionHash });

    // A job run created now takes the new configuration.
    const after = await waitJobRun((await api("POST", "/api/jobs/chain/runs", {})).body.jobRunId);
    expect(after.workflowRuns.map((w: { workflow: string }) => w.workflow)).toEqual(["step-c"]);
    expect(after.jobConfigJsonSnapshot.description).toBe("edited");
    await api("PUT", "/api/jobs/chain", {
      description: "three steps",
      workflowExecutionOrder: ["step-a", "step-b", "step-c"],
    });
  });

  it("cancels: the running workflow run is cancelled and nothing more starts", async () => {
    const started = await api("POST", "/api/jobs/chain/runs", {
      parameters: { "step-a": { gate: gate("cancel-a") } },
    });
    const id = started.body.jobRunId;
    await until(
      () => getJobRun(id),
      (jr) => jr.workflowRuns[0]?.status === "running",
      "step-a running",
    );
    const cancel = await api("POST", `/api/job-runs/${id}/cancel`, { reason: "not today" });
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ jobRunId: id, status: "cancelled" });

    const jr = await until(
      () => getJobRun(id),
      (j) => j.workflowRuns[0].status === "cancelled",
      "run cancelled",
    );
    expect(jr.status).toBe("cancelled");
    expect(jr.completedAt).toMatch(/\.\d{6}Z$/);
    expect(jr.workflowRuns.map((w: { workflow: string; status: string }) => [w.workflow, w.status])).toEqual([
      ["step-a", "cancelled"],
      ["step-b", "not_started"],
      ["step-c", "not_started"],
    ]);
    await executionEnded(id);
    await open("cancel-a");
    const runs = await runsOf(id);
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe("cancelled");
    expect((await api("POST", `/api/job-runs/${id}/cancel`, {})).status).toBe(409);
    expect((await getJobRun(id)).status).toBe("cancelled");
  });

  it("a cancelled workflow run halts its job run as cancelled", async () => {
    const started = await api("POST", "/api/jobs/chain/runs", {
      parameters: { "step-b": { gate: gate("direct-b") } },
    });
    const id = started.body.jobRunId;
    const jr0 = await until(
      () => getJobRun(id),
      (jr) => jr.workflowRuns[1]?.status === "running",
      "step-b running",
    );
    expect((await api("POST", `/api/runs/${jr0.workflowRuns[1].runId}/cancel`, {})).status).toBe(202);
    const jr = await waitJobRun(id);
    expect(jr.status).toBe("cancelled");
    expect(jr.workflowRuns.map((w: { status: string }) => w.status)).toEqual(["succeeded", "cancelled", "not_started"]);
    await open("direct-b");
  });

  it("shows every intermediate state to a client polling once a second", async () => {
    const gates = { "step-a": gate("poll-a"), "step-b": gate("poll-b"), "step-c": gate("poll-c") };
    const started = await api("POST", "/api/jobs/chain/runs", {
      parameters: Object.fromEntries(Object.entries(gates).map(([wf, g]) => [wf, { gate: g }])),
    });
    expect(started.body.status).toBe("pending");
    const id = started.body.jobRunId;
    const seen: Array<{ job: string; workflows: string[]; runs: Record<string, string> }> = [];
    for (let i = 0; i < 60; i++) {
      const jr = await getJobRun(id);
      const runs = await runsOf(id);
      seen.push({
        job: jr.status,
        workflows: jr.workflowRuns.map((w: { workflow: string; status: string }) => `${w.workflow}:${w.status}`),
        runs: Object.fromEntries(
          runs.map((r: { workflow: { name: string }; status: string }) => [r.workflow.name, r.status]),
        ),
      });
      if (TERMINAL_JOB.includes(jr.status)) break;
      // Let the workflow run we saw running finish, so the next poll sees the next state.
      for (const w of jr.workflowRuns as Array<{ workflow: keyof typeof gates; status: string }>)
        if (w.status === "running" && !existsSync(gates[w.workflow])) await writeFile(gates[w.workflow], "open");
      await new Promise((r) => setTimeout(r, 1000));
    }
    const last = seen.at(-1);
    expect(last?.job).toBe("completed");
    expect(last?.workflows).toEqual(["step-a:succeeded", "step-b:succeeded", "step-c:succeeded"]);
    // Each workflow run was seen running while the ones before it had succeeded and the ones after had not started.
    const order = ["step-a", "step-b", "step-c"];
    for (const [i, wf] of order.entries()) {
      const poll = seen.find((s) => s.workflows.includes(`${wf}:running`));
      expect(poll, `a poll that saw ${wf} running`).toBeDefined();
      expect(poll?.job).toBe("in_progress");
      expect(poll?.workflows).toEqual([...order.slice(0, i).map((w) => `${w}:succeeded`), `${wf}:running`]);
      expect(poll?.runs).toEqual({
        ...Object.fromEntries(order.slice(0, i).map((w) => [w, "succeeded"])),
        [wf]: "running",
      });
    }
    // Job statuses only ever move forward.
    const rank = ["pending", "in_progress", "completed"];
    const ranks = seen.map((s) => rank.indexOf(s.job));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(Object.values(last?.runs ?? {}).every((s) => TERMINAL_RUN.includes(s))).toBe(true);
  });

  it("lists job runs newest first with job and status filters and cursor pages", async () => {
    const all = await api("GET", "/api/job-runs");
    expect(all.status).toBe(200);
    const ids = all.body.items.map((j: { jobRunId: string }) => j.jobRunId);
    expect(ids.length).toBeGreaterThanOrEqual(7);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(all.body.items[0]).toMatchObject({ job: "chain", jobConfigJsonSnapshot: expect.any(Object) });

    const failed = await api("GET", "/api/job-runs?status=failed");
    expect(failed.body.items.map((j: { status: string }) => j.status)).toEqual(["failed"]);
    const cancelled = await api("GET", "/api/job-runs?job=chain&status=cancelled&limit=1");
    expect(cancelled.body.items).toHaveLength(1);
    expect(cancelled.body.items[0].status).toBe("cancelled");
    const more = await api(
      "GET",
      `/api/job-runs?job=chain&status=cancelled&limit=1&cursor=${cancelled.body.nextCursor}`,
    );
    expect(more.body.items).toHaveLength(1);
    expect(more.body.items[0].jobRunId < cancelled.body.items[0].jobRunId).toBe(true);
    const rest = more.body.nextCursor
      ? (await api("GET", `/api/job-runs?job=chain&status=cancelled&cursor=${more.body.nextCursor}`)).body.items
      : [];
    expect(rest).toEqual([]);

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Res = await api("GET", `/api/job-runs?job=chain&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      pages.push(...page.body.items.map((j: { jobRunId: string }) => j.jobRunId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual(ids.filter((_: string, i: number) => all.body.items[i].job === "chain"));
    expect((await api("GET", "/api/job-runs?job=pair")).body.items).toEqual([]);
    expect((await api("GET", "/api/job-runs?status=done")).status).toBe(400);
    expect((await api("GET", "/api/job-runs?limit=0")).status).toBe(400);
    expect((await api("GET", "/api/job-runs/jr_01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(404);
    expect((await api("GET", "/api/job-runs/nonsense")).status).toBe(404);
    const acme = (await api("POST", "/api/orgs", { orgId: "acme-jobruns" })).body.key as string;
    expect((await api("GET", `/api/job-runs/${ids[0]}`, undefined, acme)).status).toBe(404);
    expect((await api("POST", `/api/job-runs/${ids[0]}/cancel`, {}, acme)).status).toBe(404);
    expect((await api("GET", "/api/job-runs", undefined, acme)).body.items).toEqual([]);
  });

  /** Starts the chain job with an Idempotency-Key. */
  const startWithKey = (key: string) =>
    fetch(`${stack.url}/api/jobs/chain/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", "idempotency-key": key },
      body: "{}",
    }).then((r) => r.json() as Promise<{ jobRunId: string }>);

  it("returns the same job run for the same Idempotency-Key", async () => {
    const post = () => startWithKey("k-1");
    const a = await post();
    const b = await post();
    expect(b.jobRunId).toBe(a.jobRunId);
    await waitJobRun(a.jobRunId);
  });

  it("gives every one of simultaneous requests with one Idempotency-Key the same job run", async () => {
    const post = () => startWithKey("k-2");
    const count = async () => (await api("GET", "/api/job-runs?job=chain&limit=100")).body.items.length as number;
    const before = await count();
    const all = await Promise.all(Array.from({ length: 8 }, post));
    expect(new Set(all.map((r) => r.jobRunId)).size).toBe(1);
    const id = all[0]?.jobRunId as string;
    await waitJobRun(id);
    expect(await count()).toBe(before + 1);
  });

  it("resumes when a workflow run ends before the job run's token is stored", async () => {
    // Fault injection: every token is stored only after the run it waits for has ended, so the run listener
    // never finds it; only RunNext's re-read after storing can move the job run on.
    const { store, repos } = stack.deps;
    const original = repos.jobs.putWait.bind(repos.jobs);
    let delayed = 0;
    repos.jobs.putWait = async (orgId, jobRunId, wait) => {
      delayed++;
      await until(
        () => store.getRunStatus("default", wait.runId),
        (s) => s !== null && TERMINAL_RUN.includes(s),
        "the run to end first",
      );
      return original(orgId, jobRunId, wait);
    };
    try {
      const jr = await waitJobRun((await api("POST", "/api/jobs/chain/runs", {})).body.jobRunId);
      expect(jr.status).toBe("completed");
      expect(jr.workflowRuns.map((w: { status: string }) => w.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
      expect(delayed).toBe(3);
      await executionEnded(jr.jobRunId);
    } finally {
      repos.jobs.putWait = original;
    }
  });

  it("tells job-run listeners every status change, and starts job runs for other areas", async () => {
    const changes = jobRunChanges;
    const started = await startJobRunFor(stack.deps, {
      orgId: "default",
      job: "chain",
      parameters: { "step-b": { code: 78 } },
      trigger: { type: "schedule", scheduleName: "nightly", scheduledFor: "2026-11-21T10:00:00Z" },
      createdBy: "schedule:nightly",
      idempotencyKey: "schedule:nightly:2026-11-21T10:00:00Z",
    });
    const jr = await waitJobRun(started.jobRunId);
    expect(jr).toMatchObject({ status: "completed", createdBy: "schedule:nightly" });
    await executionEnded(jr.jobRunId);
    expect(jr.trigger).toMatchObject({ type: "schedule", scheduleName: "nightly" });
    const runs = await runsOf(jr.jobRunId);
    expect(runs.every((r: { createdBy: string }) => r.createdBy === "schedule:nightly")).toBe(true);
    expect(changes.filter((c) => c.startsWith(jr.jobRunId)).map((c) => c.split(" ")[1])).toEqual([
      "->pending",
      "pending>in_progress",
      "in_progress>completed",
    ]);
    await expect(
      startJobRunFor(stack.deps, {
        orgId: "default",
        job: "chain",
        parameters: { day: "flat, not per workflow" },
        trigger: { type: "schedule" },
        createdBy: "schedule:x",
      }),
    ).rejects.toThrow(/parameters/);
  });

  it("costs 2N+3 state transitions for N workflows (9 for three)", async () => {
    // Measured alone: every execution (job run or run) of the tests before has ended.
    await until(
      async () => stack.orchestrator.runs.active,
      (n) => n === 0,
      "runs to end",
    );
    const before = stack.deps.meter.transitions;
    const started = await api("POST", "/api/jobs/chain/runs", {});
    await waitJobRun(started.body.jobRunId);
    await executionEnded(started.body.jobRunId);
    await until(
      async () => stack.orchestrator.runs.active,
      (n) => n === 0,
      "runs to end",
    );
    await new Promise((r) => setImmediate(r));
    // Each one-command workflow run costs 3 (Advance, Route, Done); the job run's own are the rest.
    expect(stack.deps.meter.transitions - before - 3 * 3).toBe(9);
  });
});

describe("embedded mode", () => {
  it("loads the example job and runs it; resumes a job run after a restart", async () => {
    await stack.stop();
    stack = await startEmbedded({
      dataDir,
      port: 0,
      apiKey: API_KEY,
      examplesDir: join(import.meta.dirname, "..", "..", "examples"),
    });
    const job = await api("GET", "/api/jobs/daily-chain");
    expect(job.status).toBe(200);
    expect(job.body.workflowExecutionOrder).toEqual(["daily-extract", "daily-transform", "daily-report"]);
    const example = await waitJobRun(
      (await api("POST", "/api/jobs/daily-chain/runs", { parameters: { "daily-transform": { skip: true } } })).body
        .jobRunId,
    );
    expect(example.workflowRuns.map((w: { status: string }) => w.status)).toEqual([
      "succeeded",
      "no_action",
      "succeeded",
    ]);
    expect(example.status).toBe("completed");

    // A job run waiting on its second workflow when the process stops carries on after the next start. That
    // workflow sits in a wait node, so no task process is running when the stack stops.
    const pause = { name: "pause", nodes: [{ id: "pause", type: "wait", seconds: 2 }] };
    expect((await api("PUT", "/api/workflows/pause", pause)).status).toBe(201);
    expect(
      (await api("PUT", "/api/jobs/restart", { workflowExecutionOrder: ["step-a", "pause", "step-c"] })).status,
    ).toBe(201);
    const id = (await api("POST", "/api/jobs/restart/runs", {})).body.jobRunId;
    const waiting = await until(
      () => getJobRun(id),
      (jr) => jr.workflowRuns[1]?.status === "running",
      "pause running",
    );
    await until(
      async () => (await api("GET", `/api/runs/${waiting.workflowRuns[1].runId}`)).body.currentStateName,
      (node) => node === "pause",
      "the wait node",
    );
    await stack.stop();
    stack = await startEmbedded({ dataDir, port: 0, apiKey: API_KEY, examplesDir: null });
    const jr = await waitJobRun(id);
    expect(jr.workflowRuns.map((w: { workflow: string; status: string }) => `${w.workflow}:${w.status}`)).toEqual([
      "step-a:succeeded",
      "pause:succeeded",
      "step-c:succeeded",
    ]);
    expect(jr.status).toBe("completed");
  });
});
