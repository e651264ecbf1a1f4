// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${params.x} is a Stepwise reference, not a JS template.
// Schedules on the embedded stack, driven by an injected clock: the test moves the clock and ticks the scheduler.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import { localTriggers } from "../../local/local-triggers.ts";
import { fireSchedule } from "../../shared/triggers/schedule-firing.ts";
import { ShiftedClock } from "../support/clock.ts";
import { type JsonResponse, requestJson } from "../support/http.ts";
import type { Json } from "../support/stack.ts";

const KEY = "test-platform-key-triggers-schedules";
const TERMINAL = ["succeeded", "no_action", "failed", "cancelled"];

/** Wall time shifted to wherever the test says it is now. */
const clock = new ShiftedClock();
let dataDir: string;
let stack: EmbeddedStack;

async function start(): Promise<void> {
  stack = await startEmbedded({
    dataDir,
    port: 0,
    apiKey: KEY,
    examplesDir: null,
    clock,
    settings: { workRoot: join(dataDir, "work"), cancelPollMs: 100 },
  });
}

const api = (path: string, method = "GET", body?: unknown): Promise<JsonResponse> =>
  requestJson(`${stack.url}${path}`, KEY, method, body);

async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Moves the clock to an instant (plus a little, as a real timer would be late) and runs one scheduler tick. */
async function tickAt(iso: string): Promise<void> {
  clock.set(new Date(Date.parse(iso) + 300).toISOString());
  await localTriggers(stack.deps).scheduler.tick();
}

/** Runs of a workflow started by one schedule, oldest first. */
async function scheduledRuns(workflow: string, schedule: string): Promise<Json[]> {
  const res = await api(`/api/runs?workflow=${workflow}&limit=100`);
  return (res.body.items as Json[])
    .filter((r) => r.trigger.type === "schedule" && r.trigger.scheduleName === schedule)
    .reverse();
}

async function putSchedule(name: string, body: Record<string, unknown>, expected = 201): Promise<Json> {
  const res = await api(`/api/schedules/${name}`, "PUT", body);
  expect(res.status, JSON.stringify(res.body)).toBe(expected);
  return res.body;
}

/** Waits until every run of a workflow has ended. */
async function allEnded(workflow: string): Promise<void> {
  await waitFor(`runs of ${workflow} to end`, async () => {
    const res = await api(`/api/runs?workflow=${workflow}&limit=100`);
    return (res.body.items as Json[]).every((r) => TERMINAL.includes(r.status));
  });
}

const quick = {
  name: "quick",
  parameters: { label: { type: "string", default: "none" } },
  nodes: [{ id: "main", type: "command", command: "echo label=$LABEL", env: { LABEL: "${params.label}" } }],
};
// Stays running (awaiting approval) until cancelled: the "last run is still going" of the overlap policies.
const held = {
  name: "held",
  nodes: [{ id: "gate", type: "approval", approvers: { count: 1 }, timeoutSeconds: 86400, onTimeout: "reject" }],
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-sched-"));
  clock.set("2030-01-07T06:00:00.000Z"); // a Monday
  await start();
  for (const wf of [quick, held]) expect((await api(`/api/workflows/${wf.name}`, "PUT", wf)).status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("schedules", () => {
  it("rejects an invalid cron or timezone with 400 naming it, and an unknown target or parameter", async () => {
    const base = { target: { workflow: "quick" }, cron: "0 9 * * MON-FRI", timezone: "Europe/Berlin" };
    const cron = await api("/api/schedules/bad", "PUT", { ...base, cron: "0 25 * * *" });
    expect(cron.status).toBe(400);
    expect(cron.body.error.code).toBe("validation_failed");
    expect(cron.body.error.details[0].path).toBe("cron");
    expect(cron.body.error.message).toContain("0 25 * * *");
    const tz = await api("/api/schedules/bad", "PUT", { ...base, timezone: "Europe/Atlantis" });
    expect(tz.status).toBe(400);
    expect(tz.body.error.details[0].path).toBe("timezone");
    expect(tz.body.error.message).toContain("Europe/Atlantis");
    const wf = await api("/api/schedules/bad", "PUT", { ...base, target: { workflow: "nope" } });
    expect(wf.status).toBe(400);
    expect(wf.body.error.details[0].path).toBe("target.workflow");
    const job = await api("/api/schedules/bad", "PUT", { ...base, target: { job: "no-such-job" } });
    expect(job.status, JSON.stringify(job.body)).toBe(400);
    expect(job.body.error.code).toBe("validation_failed");
    expect(job.body.error.details[0].path).toBe("target.job");
    expect(job.body.error.message).toContain("no-such-job");
    const param = await api("/api/schedules/bad", "PUT", { ...base, parameters: { colour: "red" } });
    expect(param.status).toBe(400);
    expect(param.body.error.details[0].path).toBe("parameters.colour");
    const overlap = await api("/api/schedules/bad", "PUT", { ...base, overlap: "sometimes" });
    expect(overlap.status).toBe(400);
    expect((await api("/api/schedules/bad")).status).toBe(404);
  });

  it("fires at 09:00 Berlin on a weekday with the schedule's parameters and trigger", async () => {
    const created = await putSchedule("morning", {
      target: { workflow: "quick" },
      cron: "0 9 * * MON-FRI",
      timezone: "Europe/Berlin",
      parameters: { label: "morning" },
    });
    expect(created).toMatchObject({
      name: "morning",
      target: { workflow: "quick" },
      enabled: true,
      overlap: "skip",
      catchupWindowSeconds: 0,
      // 09:00 in Berlin in January (CET, UTC+1).
      nextRunAt: "2030-01-07T08:00:00.000000Z",
    });
    const listed = await api("/api/schedules");
    expect(listed.body.items.map((s: Json) => s.name)).toContain("morning");

    await tickAt("2030-01-07T07:59:00Z");
    expect(await scheduledRuns("quick", "morning")).toHaveLength(0);
    await tickAt("2030-01-07T08:00:00Z");
    const [run] = await scheduledRuns("quick", "morning");
    expect(run).toBeDefined();
    expect(run.trigger).toEqual({
      type: "schedule",
      scheduleName: "morning",
      scheduledFor: "2030-01-07T08:00:00.000000Z",
    });
    const done = await waitFor("the scheduled run to end", async () => {
      const r = (await api(`/api/runs/${run.runId}`)).body;
      return TERMINAL.includes(r.status) ? r : null;
    });
    expect(done.status).toBe("succeeded");
    expect(done.parameters).toEqual({ label: "morning" });
    // The same instant again (EventBridge delivers at least once): nothing new.
    await tickAt("2030-01-07T08:00:10Z");
    expect(
      await fireSchedule(stack.deps, { orgId: "default", name: "morning", scheduledFor: "2030-01-07T08:00:00Z" }),
    ).toBe("duplicate");
    expect(await scheduledRuns("quick", "morning")).toHaveLength(1);
    const shown = (await api("/api/schedules/morning")).body;
    expect(shown.lastRunId).toBe(run.runId);
    expect(shown.nextRunAt).toBe("2030-01-08T08:00:00.000000Z");

    // Disabled: its instants pass without a run.
    await putSchedule(
      "morning",
      { target: { workflow: "quick" }, cron: "0 9 * * MON-FRI", timezone: "Europe/Berlin", enabled: false },
      200,
    );
    await tickAt("2030-01-08T08:00:00Z");
    expect(await scheduledRuns("quick", "morning")).toHaveLength(1);
    expect((await api("/api/schedules/morning", "DELETE")).status).toBe(204);
    expect((await api("/api/schedules/morning")).status).toBe(404);
  });

  it("skip: starts nothing while the last run is still going", async () => {
    await putSchedule("s-skip", { target: { workflow: "held" }, cron: "* * * * *", timezone: "UTC", overlap: "skip" });
    await tickAt("2030-01-08T10:01:00Z");
    const [first] = await scheduledRuns("held", "s-skip");
    expect(first).toBeDefined();
    await tickAt("2030-01-08T10:02:00Z");
    expect(await scheduledRuns("held", "s-skip")).toHaveLength(1);
    expect((await api("/api/schedules/s-skip")).body.lastSkippedFor).toBe("2030-01-08T10:02:00.000000Z");
    expect((await api(`/api/runs/${first.runId}/cancel`, "POST", {})).status).toBe(202);
    await waitFor(
      "the run to be cancelled",
      async () => (await api(`/api/runs/${first.runId}`)).body.status === "cancelled",
    );
    await tickAt("2030-01-08T10:03:00Z");
    const runs = await scheduledRuns("held", "s-skip");
    expect(runs.map((r) => r.trigger.scheduledFor)).toEqual([
      "2030-01-08T10:01:00.000000Z",
      "2030-01-08T10:03:00.000000Z",
    ]);
    await api(`/api/runs/${runs[1].runId}/cancel`, "POST", {});
    expect((await api("/api/schedules/s-skip", "DELETE")).status).toBe(204);
  });

  it("allow: starts a run at every instant, whatever is still going", async () => {
    await putSchedule("s-allow", {
      target: { workflow: "held" },
      cron: "* * * * *",
      timezone: "UTC",
      overlap: "allow",
    });
    await tickAt("2030-01-08T11:01:00Z");
    await tickAt("2030-01-08T11:02:00Z");
    const runs = await scheduledRuns("held", "s-allow");
    expect(runs.map((r) => r.trigger.scheduledFor)).toEqual([
      "2030-01-08T11:01:00.000000Z",
      "2030-01-08T11:02:00.000000Z",
    ]);
    for (const r of runs) await api(`/api/runs/${r.runId}/cancel`, "POST", {});
    expect((await api("/api/schedules/s-allow", "DELETE")).status).toBe(204);
  });

  it("buffer_one: keeps one firing waiting and starts it when the last run ends; more are dropped", async () => {
    await putSchedule("s-buffer", {
      target: { workflow: "held" },
      cron: "* * * * *",
      timezone: "UTC",
      overlap: "buffer_one",
    });
    await tickAt("2030-01-08T12:01:00Z");
    const [first] = await scheduledRuns("held", "s-buffer");
    expect(first).toBeDefined();
    await tickAt("2030-01-08T12:02:00Z");
    await tickAt("2030-01-08T12:03:00Z");
    expect(await scheduledRuns("held", "s-buffer")).toHaveLength(1);
    const waiting = (await api("/api/schedules/s-buffer")).body;
    expect(waiting.buffered).toBe("2030-01-08T12:02:00.000000Z");
    expect(waiting.lastSkippedFor).toBe("2030-01-08T12:03:00.000000Z");

    expect((await api(`/api/runs/${first.runId}/cancel`, "POST", {})).status).toBe(202);
    const runs = await waitFor("the buffered firing to start", async () => {
      const r = await scheduledRuns("held", "s-buffer");
      return r.length === 2 ? r : null;
    });
    expect(runs[1].trigger.scheduledFor).toBe("2030-01-08T12:02:00.000000Z");
    expect((await api("/api/schedules/s-buffer")).body.buffered).toBeNull();
    await api(`/api/runs/${runs[1].runId}/cancel`, "POST", {});
    expect((await api("/api/schedules/s-buffer", "DELETE")).status).toBe(204);
  });

  it("starts a job run when the target is a job", async () => {
    const job = await api("/api/jobs/nightly-job", "PUT", { workflowExecutionOrder: ["quick"] });
    expect(job.status, JSON.stringify(job.body)).toBe(201);
    await putSchedule("s-job", { target: { job: "nightly-job" }, cron: "30 14 * * *", timezone: "UTC" });
    await tickAt("2030-01-08T14:30:00Z");
    const jobRuns = (await api("/api/job-runs?job=nightly-job")).body.items as Json[];
    expect(jobRuns).toHaveLength(1);
    const jobRunId = jobRuns[0].jobRunId;
    const done = await waitFor("the job run to end", async () => {
      const jr = (await api(`/api/job-runs/${jobRunId}`)).body;
      return ["completed", "failed", "cancelled"].includes(jr.status) ? jr : null;
    });
    expect(done.status).toBe("completed");
    expect(done.createdBy).toBe("schedule:s-job");
    const shown = (await api("/api/schedules/s-job")).body;
    expect(shown.lastJobRunId).toBe(jobRunId);
    expect(shown.lastError).toBeNull();
    expect((await api("/api/schedules/s-job", "DELETE")).status).toBe(204);
    await allEnded("quick");
  });

  it("never fires an instant twice across a restart, and catches up a missed instant once within its window", async () => {
    await putSchedule("hourly", { target: { workflow: "quick" }, cron: "0 * * * *", timezone: "UTC" });
    await putSchedule("hourly-catchup", {
      target: { workflow: "quick" },
      cron: "0 * * * *",
      timezone: "UTC",
      catchupWindowSeconds: 7200,
    });
    await tickAt("2030-01-09T10:00:00Z");
    expect(await scheduledRuns("quick", "hourly")).toHaveLength(1);
    expect(await scheduledRuns("quick", "hourly-catchup")).toHaveLength(1);

    await allEnded("quick");
    // A new process on the same data, at the same instant: nothing fires again.
    await stack.stop();
    await start();
    await tickAt("2030-01-09T10:00:05Z");
    expect(await scheduledRuns("quick", "hourly")).toHaveLength(1);
    expect(await scheduledRuns("quick", "hourly-catchup")).toHaveLength(1);

    // Down from 10:00 to 12:30: 11:00 and 12:00 were missed. Without a window nothing fires; with a two-hour
    // window only the latest missed instant fires, once.
    await stack.stop();
    clock.set("2030-01-09T12:30:00Z");
    await start();
    await tickAt("2030-01-09T12:30:00Z");
    await tickAt("2030-01-09T12:30:30Z");
    expect(await scheduledRuns("quick", "hourly")).toHaveLength(1);
    const caught = await scheduledRuns("quick", "hourly-catchup");
    expect(caught.map((r) => r.trigger.scheduledFor)).toEqual([
      "2030-01-09T10:00:00.000000Z",
      "2030-01-09T12:00:00.000000Z",
    ]);
    // And the next on-time instant fires for both (once the caught-up run has ended: overlap is "skip").
    await allEnded("quick");
    await tickAt("2030-01-09T13:00:00Z");
    expect(await scheduledRuns("quick", "hourly")).toHaveLength(2);
    expect(await scheduledRuns("quick", "hourly-catchup")).toHaveLength(3);
    await allEnded("quick");
  });

  it("fires an instant that came while it was up a little late, but one missed while down only within the window", async () => {
    // The schedules of the test above would fire along; they are not needed any more.
    for (const name of ["hourly", "hourly-catchup"])
      expect((await api(`/api/schedules/${name}`, "DELETE")).status).toBe(204);
    clock.set("2030-01-09T13:20:00Z");
    const hourly = { target: { workflow: "quick" }, cron: "0 * * * *", timezone: "UTC" };
    await putSchedule("late-none", hourly);
    await putSchedule("late-window", { ...hourly, catchupWindowSeconds: 120 });

    // The scheduler was up at 14:00 but its tick came 30 s late (a busy event loop): both fire, within the grace.
    await tickAt("2030-01-09T14:00:30Z");
    for (const name of ["late-none", "late-window"])
      expect((await scheduledRuns("quick", name)).map((r) => r.trigger.scheduledFor)).toEqual([
        "2030-01-09T14:00:00.000000Z",
      ]);
    await allEnded("quick");

    // Down from 14:00:30 to 15:00:30: the 15:00 instant was missed while down, 30 s ago. Without a catch-up window
    // (the default 0) it does not fire, grace or not; with a 120 s window it fires, once.
    await stack.stop();
    clock.set("2030-01-09T15:00:30Z");
    await start();
    await tickAt("2030-01-09T15:00:30Z");
    await tickAt("2030-01-09T15:00:40Z");
    expect((await scheduledRuns("quick", "late-none")).map((r) => r.trigger.scheduledFor)).toEqual([
      "2030-01-09T14:00:00.000000Z",
    ]);
    expect((await api("/api/schedules/late-none")).body.lastFiredFor).toBe("2030-01-09T14:00:00.000000Z");
    expect((await scheduledRuns("quick", "late-window")).map((r) => r.trigger.scheduledFor)).toEqual([
      "2030-01-09T14:00:00.000000Z",
      "2030-01-09T15:00:00.000000Z",
    ]);

    // The next instant, which comes while the restarted scheduler is up, fires for both.
    await allEnded("quick");
    await tickAt("2030-01-09T16:00:00Z");
    expect(await scheduledRuns("quick", "late-none")).toHaveLength(2);
    expect(await scheduledRuns("quick", "late-window")).toHaveLength(3);
    await allEnded("quick");
    for (const name of ["late-none", "late-window"])
      expect((await api(`/api/schedules/${name}`, "DELETE")).status).toBe(204);
  });

  it("lists schedules newest first; an update keeps a schedule's place", async () => {
    // Names in the opposite order of creation, so that a list sorted by name would fail.
    const yearly = { target: { workflow: "quick" }, cron: "0 0 1 1 *", timezone: "UTC" };
    clock.set("2030-01-09T17:00:00Z");
    await putSchedule("order-c", yearly);
    clock.set("2030-01-09T17:00:01Z");
    await putSchedule("order-b", yearly);
    clock.set("2030-01-09T17:00:02Z");
    await putSchedule("order-a", yearly);
    clock.set("2030-01-09T17:00:03Z");
    await putSchedule("order-c", { ...yearly, enabled: false }, 200);
    const names = async (query = "") => ((await api(`/api/schedules${query}`)).body.items as Json[]).map((s) => s.name);
    expect(await names()).toEqual(["order-a", "order-b", "order-c"]);
    // Pages keep the order.
    const first = (await api("/api/schedules?limit=2")).body;
    expect(first.items.map((s: Json) => s.name)).toEqual(["order-a", "order-b"]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await api(`/api/schedules?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)).body;
    expect(second.items.map((s: Json) => s.name)).toEqual(["order-c"]);
    expect(second.nextCursor).toBeNull();
    for (const name of ["order-a", "order-b", "order-c"])
      expect((await api(`/api/schedules/${name}`, "DELETE")).status).toBe(204);
  });
});
