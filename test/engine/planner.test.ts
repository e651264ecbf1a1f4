// The planner is a pure function: these tests give it a definition, a run state, timers and a clock, and check
// the actions and hand-offs it chooses, with no storage, no processes and no real time.
import { describe, expect, it } from "vitest";
import { isoMicro } from "../../shared/domain/clock.ts";
import type { RunRecord, RunStatus, TaskRecord } from "../../shared/domain/records.ts";
import { pendingTask } from "../../shared/domain/task-records.ts";
import { parseDefinition, type WorkflowDefinition } from "../../shared/domain/workflow.ts";
import {
  NO_VERDICT,
  type PlanInput,
  plan,
  planDueTimers,
  planRecovery,
  type Verdict,
} from "../../shared/engine/planner.ts";

const NOW = Date.parse("2026-01-01T00:00:00Z");

function def(nodes: unknown[]): WorkflowDefinition {
  return parseDefinition({ name: "wf", nodes });
}

const run = (status: RunStatus): RunRecord => ({
  runId: "run_1",
  orgId: "default",
  workflow: { name: "wf", version: 1, definitionHash: "sha256:x" },
  engineVersion: "0.1.0",
  status,
  trigger: { type: "manual" },
  createdBy: "test",
  jobRunId: null,
  rerunOf: null,
  parameters: {},
  createdAt: isoMicro(NOW),
  startedAt: isoMicro(NOW),
  updatedAt: isoMicro(NOW),
  completedAt: null,
  error: null,
  noActionReason: null,
});

function input(
  d: WorkflowDefinition,
  tasks: Record<string, Partial<TaskRecord>>,
  over: Partial<PlanInput> & { status?: RunStatus } = {},
): PlanInput {
  const map = new Map<string, TaskRecord>();
  for (const node of d.nodes) {
    const t = tasks[node.id];
    if (t) map.set(node.id, { ...pendingTask(node), ...t });
  }
  return {
    def: d,
    state: { run: run(over.status ?? "running"), tasks: map, head: { seq: 3, hash: "h" } },
    now: NOW,
    timers: new Map(),
    inFlight: new Set(),
    verdict: NO_VERDICT,
    budgetLeftMs: 13 * 60_000,
    maxHumanWaitSeconds: 365 * 86400,
    ...over,
  };
}

const cmd = (id: string, needs?: string[], extra: Record<string, unknown> = {}) => ({
  id,
  type: "command",
  command: "true",
  ...(needs ? { needs } : {}),
  ...extra,
});

describe("plan: starting nodes", () => {
  it("starts every ready node of a fresh run at once, in definition order", () => {
    const d = def([cmd("a"), cmd("b"), cmd("c", ["a", "b"])]);
    const p = plan(input(d, {}));
    expect(p.kind).toBe("act");
    expect(p.kind === "act" && p.actions.map((a) => [a.kind, "node" in a ? a.node.id : null])).toEqual([
      ["start-task", "a"],
      ["start-task", "b"],
    ]);
  });

  it("starts a wait node with its due time, and a human step in its waiting status", () => {
    const d = def([
      { id: "w", type: "wait", seconds: 30 },
      { id: "ok", type: "approval" },
    ]);
    const p = plan(input(d, {}));
    expect(p).toMatchObject({
      kind: "act",
      actions: [
        { kind: "start-wait", due: NOW + 30_000 },
        { kind: "await-human", status: "awaiting_approval" },
      ],
    });
  });

  it("leaves a task that does not fit in the call's budget to the next call", () => {
    const d = def([cmd("a", undefined, { timeoutSeconds: 600 })]);
    const p = plan(input(d, {}, { budgetLeftMs: 60_000 }));
    expect(p).toEqual({ kind: "handoff", handoff: { next: "advance" }, verdict: NO_VERDICT });
  });

  it("starts nothing once the run has a verdict, and ends it when nothing is in flight", () => {
    const d = def([cmd("a"), cmd("b")]);
    const failure = { code: "task_failed", message: "'a' failed", nodeId: "a" };
    const verdict: Verdict = { ...NO_VERDICT, failure };
    const p = plan(input(d, { a: { status: "failed" } }, { verdict }));
    expect(p).toEqual({ kind: "end", ending: { kind: "finish", status: "failed", error: failure }, verdict });
  });
});

describe("plan: waiting", () => {
  it("sleeps while an attempt is in flight, until the next timer", () => {
    const d = def([cmd("a"), cmd("b")]);
    const p = plan(
      input(
        d,
        { a: { status: "running" }, b: { status: "running" } },
        {
          inFlight: new Set(["a"]),
          timers: new Map([["b", NOW + 1500]]),
        },
      ),
    );
    expect(p).toEqual({ kind: "sleep", until: NOW + 1500, verdict: NO_VERDICT });
  });

  it("hands a long wait to the Wait state, and sleeps a short one inline", () => {
    const d = def([{ id: "w", type: "wait", seconds: 60 }]);
    const tasks = { w: { status: "running" as const } };
    expect(plan(input(d, tasks, { timers: new Map([["w", NOW + 60_000]]) }))).toMatchObject({
      kind: "handoff",
      handoff: { next: "wait", waitSeconds: 60 },
    });
    expect(plan(input(d, tasks, { timers: new Map([["w", NOW + 1000]]) }))).toMatchObject({ kind: "sleep" });
  });

  it("hands a human wait to the task-token wait, bounded by the step's deadline", () => {
    const d = def([{ id: "ok", type: "approval", timeoutSeconds: 120 }]);
    const since = isoMicro(NOW - 20_000);
    const p = plan(
      input(d, { ok: { status: "awaiting_approval", waitingSince: since } }, { status: "awaiting_approval" }),
    );
    expect(p).toMatchObject({ kind: "handoff", handoff: { next: "human", humanTimeoutSeconds: 100 } });
  });

  it("keeps the run's status in step with its waiting human steps", () => {
    const d = def([{ id: "in", type: "input", fields: { x: { type: "string" } } }]);
    const p = plan(input(d, { in: { status: "awaiting_input", waitingSince: isoMicro(NOW) } }));
    expect(p).toMatchObject({ kind: "act", actions: [{ kind: "set-run-status", to: "awaiting_input" }] });
  });

  it("waits on an attempt that runs externally, until its deadline", () => {
    const d = def([cmd("a")]);
    const external = { ref: "task/1", startedAt: isoMicro(NOW), deadlineMs: NOW + 90_000 };
    const p = plan(input(d, { a: { status: "running", external } }));
    expect(p).toMatchObject({ kind: "handoff", handoff: { next: "human", humanTimeoutSeconds: 90 } });
    const late = plan(input(d, { a: { status: "running", external } }, { now: NOW + 90_000 }));
    expect(late).toMatchObject({ kind: "act", actions: [{ kind: "time-out-external" }] });
  });
});

describe("plan: timeouts and endings", () => {
  it("times out a human step past its deadline: a rejection fails the run, an approve-on-timeout does not", () => {
    const reject = def([{ id: "ok", type: "approval", timeoutSeconds: 10 }]);
    const waiting = { ok: { status: "awaiting_approval" as const, waitingSince: isoMicro(NOW - 11_000) } };
    const p = plan(input(reject, waiting));
    expect(p).toMatchObject({
      kind: "act",
      actions: [{ kind: "time-out-human", approve: false, error: { code: "human_timeout" } }],
      verdict: { failure: { code: "human_timeout", nodeId: "ok" } },
    });
    const approve = def([{ id: "ok", type: "approval", timeoutSeconds: 10, onTimeout: "approve" }]);
    expect(plan(input(approve, waiting))).toMatchObject({
      kind: "act",
      actions: [{ kind: "time-out-human", approve: true, error: null }],
      verdict: { failure: null },
    });
  });

  it("ends a run whose nodes all succeeded, and a run that is stuck behind a failed need", () => {
    const d = def([cmd("a"), cmd("b", ["a"])]);
    expect(plan(input(d, { a: { status: "succeeded" }, b: { status: "succeeded" } }))).toMatchObject({
      kind: "end",
      ending: { kind: "finish", status: "succeeded" },
    });
    // A need that ended without succeeding or failing (cancelled) leaves nothing to run.
    expect(plan(input(d, { a: { status: "cancelled" } }))).toMatchObject({
      kind: "end",
      ending: { kind: "finish", status: "failed", error: { code: "stuck" } },
    });
  });

  it("ends a run with what the records say of an attempt that ended outside the call (an external wake-up)", () => {
    // Changed with the ECS wake-up: a failed need used to end the run as "stuck"; the run now carries the task's
    // own failure, as it does when the attempt fails inside an Advance call.
    const d = def([{ id: "c", type: "container", image: "busybox:1" }, cmd("b", ["c"])]);
    const error = { code: "image_not_found", message: "ECS could not pull 'busybox:1'", nodeId: "c" };
    expect(plan(input(d, { c: { status: "failed", error } }))).toMatchObject({
      kind: "end",
      ending: { kind: "finish", status: "failed", error },
    });
    // Without a downstream node the run used to end succeeded.
    const alone = def([{ id: "c", type: "container", image: "busybox:1" }]);
    expect(plan(input(alone, { c: { status: "failed", error } }))).toMatchObject({
      ending: { kind: "finish", status: "failed", error },
    });
    expect(plan(input(alone, { c: { status: "succeeded", noActionReason: "exit code 3" } }))).toMatchObject({
      ending: { kind: "finish", status: "no_action", reason: "exit code 3" },
    });
  });

  it("stops what runs of a run that already ended (a cancel)", () => {
    const d = def([cmd("a")]);
    expect(plan(input(d, { a: { status: "running" } }, { status: "cancelled" }))).toMatchObject({
      kind: "end",
      ending: { kind: "stop" },
    });
  });
});

describe("planRecovery and planDueTimers", () => {
  it("gives a wait back its timer, reruns an interrupted in-call attempt, and leaves an external one running", () => {
    const d = def([{ id: "w", type: "wait", seconds: 10 }, cmd("a"), cmd("b"), cmd("c")]);
    const external = { ref: "task/1", startedAt: isoMicro(NOW), deadlineMs: NOW + 90_000 };
    const actions = planRecovery(
      d,
      input(d, {
        w: { status: "running", startedAt: isoMicro(NOW - 4000) },
        a: { status: "running" },
        b: { status: "running", external },
        c: { status: "running", retryDueAt: isoMicro(NOW + 5000) },
      }).state,
      NOW,
    );
    expect(actions.map((a) => [a.kind, "node" in a ? a.node.id : null, "due" in a ? a.due : null])).toEqual([
      ["resume-timer", "w", NOW + 6000],
      ["rerun-interrupted", "a", null],
      ["resume-timer", "c", NOW + 5000],
    ]);
  });

  it("ends due waits, restarts due retries, and cancels a retry of a run that failed meanwhile", () => {
    const d = def([{ id: "w", type: "wait", seconds: 1 }, cmd("a"), cmd("b")]);
    const timers = new Map([
      ["w", NOW - 1],
      ["a", NOW],
      ["b", NOW + 1],
    ]);
    expect(planDueTimers(input(d, {}, { timers })).map((a) => [a.kind, a.node.id])).toEqual([
      ["finish-wait", "w"],
      ["retry-task", "a"],
    ]);
    const failed: Verdict = { ...NO_VERDICT, failure: { code: "x", message: "x" } };
    expect(planDueTimers(input(d, {}, { timers, verdict: failed })).map((a) => a.kind)).toEqual([
      "finish-wait",
      "cancel-task",
    ]);
  });
});
