/**
 * The engine's deterministic core: from the run's definition and state, the timers this call holds, the attempts
 * in flight and the clock, it says what to do next. No storage, no processes, no time of its own: the effects loop
 * (advance-run.ts) applies the actions and asks again, as Temporal splits workflow code from its activities.
 */
import { isoMicro, parseIsoMicro } from "../domain/clock.ts";
import { isTerminalRun, isTerminalTask, type RunError, type RunStatus, type TaskRecord } from "../domain/records.ts";
import { humanDeadline, impliedStatus, pendingTask } from "../domain/task-records.ts";
import {
  DEFAULT_CONTAINER_TIMEOUT_SECONDS,
  DEFAULT_TASK_TIMEOUT_SECONDS,
  type HumanNode,
  isHuman,
  type WorkflowDefinition,
  type WorkflowNode,
} from "../domain/workflow.ts";
import type { RunState } from "../ports/run-store.ts";
import { type ExecutableNode, isExecutable } from "../ports/task-executor.ts";

type WaitNode = Extract<WorkflowNode, { type: "wait" }>;

/** Below this, a wait node is slept inside the call rather than handed to a Wait state. */
export const INLINE_WAIT_MS = 2000;
/** Human waits with no timeout still need one on the Task state: a year. */
export const NO_TIMEOUT_SECONDS = 365 * 86400;

/** Why the run will end, as learnt so far in this call (a failed node, a node with nothing to do, a cancel). */
export interface Verdict {
  failure: RunError | null;
  noAction: string | null;
  cancelled: boolean;
}

export const NO_VERDICT: Verdict = { failure: null, noAction: null, cancelled: false };

export interface PlanInput {
  def: WorkflowDefinition;
  state: RunState;
  /** Epoch ms. */
  now: number;
  /** nodeId → due (epoch ms): the waits and retry backoffs this call holds. */
  timers: ReadonlyMap<string, number>;
  /** Nodes whose attempt runs inside this call. */
  inFlight: ReadonlySet<string>;
  verdict: Verdict;
  /** What is left of this call's time budget, in ms. */
  budgetLeftMs: number;
  /** The longest single human wait the orchestrator can hold. */
  maxHumanWaitSeconds: number;
}

/** One change for the effects loop to make. */
export type Action =
  | { kind: "time-out-human"; node: HumanNode; approve: boolean; error: RunError | null }
  | { kind: "time-out-external"; node: ExecutableNode }
  | { kind: "start-wait"; node: WaitNode; due: number }
  | { kind: "await-human"; node: HumanNode; status: "awaiting_approval" | "awaiting_input" }
  | { kind: "start-task"; node: ExecutableNode }
  | { kind: "set-run-status"; to: RunStatus }
  | { kind: "finish-wait"; node: WaitNode }
  | { kind: "retry-task"; node: ExecutableNode }
  | { kind: "cancel-task"; node: WorkflowNode }
  | { kind: "resume-timer"; node: WorkflowNode; due: number }
  | { kind: "rerun-interrupted"; node: ExecutableNode };

/** The changes a due timer makes. */
export type TimerAction = Extract<Action, { kind: "finish-wait" | "retry-task" | "cancel-task" }>;

/** What the state machine does after this call. */
export interface Handoff {
  next: "advance" | "wait" | "human";
  waitSeconds?: number;
  /** With next = human: how long the task-token wait may last. */
  humanTimeoutSeconds?: number;
}

/** How the run ends when it ends in this call. */
export type Ending =
  | { kind: "stop" }
  | { kind: "finish"; status: "failed"; error: RunError }
  | { kind: "finish"; status: "no_action"; reason: string }
  | { kind: "finish"; status: "succeeded" };

export type Plan =
  /** Make these changes, then plan again. */
  | { kind: "act"; actions: Action[]; verdict: Verdict }
  /** Nothing to do until an attempt in flight ends or the next timer is due (epoch ms; Infinity for none). */
  | { kind: "sleep"; until: number; verdict: Verdict }
  /** Hand the run back to the state machine. */
  | { kind: "handoff"; handoff: Handoff; verdict: Verdict }
  /** End the run (or, when `stop`, stop what still runs of a run that already ended). */
  | { kind: "end"; ending: Ending; verdict: Verdict };

const taskOf = (state: RunState, node: WorkflowNode): TaskRecord => state.tasks.get(node.id) ?? pendingTask(node);

const hasVerdict = (v: Verdict): boolean => Boolean(v.failure || v.noAction || v.cancelled);

/** How long an attempt of an executable node may run, in ms. */
export function timeoutMsOf(node: WorkflowNode): number {
  const t = "timeoutSeconds" in node && isExecutable(node) ? node.timeoutSeconds : undefined;
  const fallback = node.type === "container" ? DEFAULT_CONTAINER_TIMEOUT_SECONDS : DEFAULT_TASK_TIMEOUT_SECONDS;
  return (t ?? fallback) * 1000;
}

/** Whether a task runs externally (its executor started work that ends outside the Advance call). */
export const runsExternally = (task: TaskRecord): boolean => task.status === "running" && Boolean(task.external);

/** A pending node whose needs all succeeded. */
export function isReady(state: RunState, node: WorkflowNode): boolean {
  if (taskOf(state, node).status !== "pending") return false;
  return (node.needs ?? []).every((id) => state.tasks.get(id)?.status === "succeeded");
}

/**
 * What the first plan of a call does with tasks a previous call left `running`: waits and retry backoffs get
 * their timer back, external attempts keep running, and an in-call attempt whose call died runs again.
 */
export function planRecovery(def: WorkflowDefinition, state: RunState, now: number): Action[] {
  const actions: Action[] = [];
  for (const node of def.nodes) {
    const task = taskOf(state, node);
    if (task.status !== "running" || task.external) continue;
    if (task.retryDueAt) {
      actions.push({ kind: "resume-timer", node, due: parseIsoMicro(task.retryDueAt) });
    } else if (node.type === "wait") {
      const due = parseIsoMicro(task.startedAt ?? isoMicro(now)) + node.seconds * 1000;
      actions.push({ kind: "resume-timer", node, due });
    } else if (isExecutable(node)) {
      actions.push({ kind: "rerun-interrupted", node });
    }
  }
  return actions;
}

/** The changes for timers that are due (called after the loop slept): waits end, retries start again. */
export function planDueTimers(p: PlanInput): TimerAction[] {
  const actions: TimerAction[] = [];
  for (const [id, due] of p.timers) {
    if (due > p.now) continue;
    const node = p.def.nodes.find((n) => n.id === id);
    if (!node) continue;
    if (node.type === "wait") actions.push({ kind: "finish-wait", node });
    else if (isExecutable(node) && !isTerminalRun(p.state.run.status) && !p.verdict.failure && !p.verdict.cancelled)
      actions.push({ kind: "retry-task", node });
    else actions.push({ kind: "cancel-task", node });
  }
  return actions;
}

/** Human steps whose deadline passed, and the failure a rejected or timed-out step means for the run. */
function humanTimeouts(p: PlanInput, verdict: Verdict): { actions: Action[]; verdict: Verdict } {
  const actions: Action[] = [];
  let failure = verdict.failure;
  for (const node of p.def.nodes) {
    if (!isHuman(node)) continue;
    const task = taskOf(p.state, node);
    if (task.status !== "awaiting_approval" && task.status !== "awaiting_input") {
      if (task.status === "failed")
        failure ??= task.error ?? { code: "rejected", message: `'${node.id}' did not pass`, nodeId: node.id };
      continue;
    }
    const deadline = humanDeadline(node, task);
    if (deadline === null || deadline > p.now) continue;
    const approve = node.type === "approval" && node.onTimeout === "approve";
    const error: RunError | null = approve
      ? null
      : {
          code: "human_timeout",
          message: `'${node.id}' was not ${node.type === "approval" ? "approved" : "answered"} within ${node.timeoutSeconds}s`,
          nodeId: node.id,
        };
    actions.push({ kind: "time-out-human", node, approve, error });
    if (error) failure ??= error;
  }
  return { actions, verdict: { ...verdict, failure } };
}

/**
 * What the records say of attempts that ended outside this call: an external attempt (a container) is recorded by
 * its wake-up, so the call that resumes the run learns its failure or no-action from the task, not from running it.
 */
function recordedEndings(p: PlanInput, verdict: Verdict): Verdict {
  let { failure, noAction } = verdict;
  for (const node of p.def.nodes) {
    if (!isExecutable(node)) continue;
    const task = taskOf(p.state, node);
    if (task.status === "failed")
      failure ??= task.error ?? { code: "task_failed", message: `'${node.id}' failed`, nodeId: node.id };
    else if (task.status === "succeeded" && task.noActionReason) noAction ??= task.noActionReason;
  }
  return failure === verdict.failure && noAction === verdict.noAction ? verdict : { ...verdict, failure, noAction };
}

/** The ready nodes this call can start, in definition order. */
function starts(p: PlanInput): Action[] {
  const actions: Action[] = [];
  for (const node of p.def.nodes) {
    if (!isReady(p.state, node)) continue;
    if (node.type === "wait") actions.push({ kind: "start-wait", node, due: p.now + node.seconds * 1000 });
    else if (isHuman(node))
      actions.push({
        kind: "await-human",
        node,
        status: node.type === "approval" ? "awaiting_approval" : "awaiting_input",
      });
    // A container runs on outside the call (the run waits for it); everything else must fit in what is left.
    else if (node.type === "container" || p.budgetLeftMs >= timeoutMsOf(node))
      actions.push({ kind: "start-task", node });
  }
  return actions;
}

/** How the run ends with what this call learnt. */
function ending(p: PlanInput, verdict: Verdict): Ending {
  if (verdict.cancelled || isTerminalRun(p.state.run.status)) return { kind: "stop" };
  if (verdict.failure) return { kind: "finish", status: "failed", error: verdict.failure };
  if (verdict.noAction) return { kind: "finish", status: "no_action", reason: verdict.noAction };
  return { kind: "finish", status: "succeeded" };
}

/** The task-token wait of the people and external attempts the run waits on, capped by what the machine holds. */
function awaitSeconds(p: PlanInput, humans: HumanNode[], externals: TaskRecord[]): number {
  const deadlines = humans.map((n) => humanDeadline(n, taskOf(p.state, n))).filter((d): d is number => d !== null);
  for (const t of externals) if (t.external) deadlines.push(t.external.deadlineMs);
  const cap = Math.min(NO_TIMEOUT_SECONDS, p.maxHumanWaitSeconds);
  if (!deadlines.length) return cap;
  return Math.min(cap, Math.max(1, Math.ceil((Math.min(...deadlines) - p.now) / 1000)));
}

/** The next step of a run: changes to make, a sleep, a hand-off to the state machine, or its end. */
export function plan(p: PlanInput): Plan {
  const { def, state, now } = p;
  if (isTerminalRun(state.run.status)) return { kind: "end", ending: { kind: "stop" }, verdict: p.verdict };
  const timedOut = humanTimeouts(p, recordedEndings(p, p.verdict));
  const verdict = timedOut.verdict;
  const act = (actions: Action[]): Plan => ({ kind: "act", actions, verdict });
  if (timedOut.actions.length) return act(timedOut.actions);

  const externals = def.nodes.map((n) => taskOf(state, n)).filter(runsExternally);
  const lateExternal = def.nodes.filter(
    (n): n is ExecutableNode =>
      isExecutable(n) &&
      runsExternally(taskOf(state, n)) &&
      (taskOf(state, n).external?.deadlineMs ?? Number.POSITIVE_INFINITY) <= now,
  );
  if (lateExternal.length) return act(lateExternal.map((node) => ({ kind: "time-out-external", node })));

  if (!hasVerdict(verdict)) {
    const started = starts(p);
    if (started.length) return act(started);
  }
  if (!verdict.failure && !verdict.noAction) {
    const want = impliedStatus(state.tasks.values());
    if (want !== state.run.status) return act([{ kind: "set-run-status", to: want }]);
  }
  if (hasVerdict(verdict) && p.inFlight.size === 0) return { kind: "end", ending: ending(p, verdict), verdict };

  if (p.inFlight.size === 0 && p.timers.size === 0) {
    if (def.nodes.every((n) => isTerminalTask(taskOf(state, n).status)))
      return { kind: "end", ending: ending(p, verdict), verdict };
    const waitingHumans = def.nodes.filter(
      (n): n is HumanNode =>
        isHuman(n) && !isTerminalTask(taskOf(state, n).status) && taskOf(state, n).status !== "pending",
    );
    if (waitingHumans.length || externals.length)
      return {
        kind: "handoff",
        handoff: { next: "human", humanTimeoutSeconds: awaitSeconds(p, waitingHumans, externals) },
        verdict,
      };
    // Ready nodes that do not fit in what is left of this call's budget go to the next call.
    if (def.nodes.some((n) => isReady(state, n))) return { kind: "handoff", handoff: { next: "advance" }, verdict };
    // Nothing runs, nothing is ready, nothing waits: a need failed without stopping the run.
    const stuck = {
      ...verdict,
      failure: verdict.failure ?? { code: "stuck", message: "no node can run: a dependency did not succeed" },
    };
    return { kind: "end", ending: ending(p, stuck), verdict: stuck };
  }

  const nextTimer = Math.min(...p.timers.values(), Number.POSITIVE_INFINITY);
  const untilTimer = nextTimer - now;
  const onlyWaits = [...p.timers.keys()].every((id) => def.nodes.find((n) => n.id === id)?.type === "wait");
  // A long wait with nothing else running is handed to the state machine's Wait state.
  if (p.inFlight.size === 0 && untilTimer > INLINE_WAIT_MS && onlyWaits)
    return {
      kind: "handoff",
      handoff: { next: "wait", waitSeconds: Math.max(1, Math.ceil(untilTimer / 1000)) },
      verdict,
    };
  return { kind: "sleep", until: nextTimer, verdict };
}
