import { parseIsoMicro } from "./clock.ts";
import type { AttemptRecord, RunStatus, TaskRecord } from "./records.ts";
import type { HumanNode, WorkflowNode } from "./workflow.ts";

/** An attempt record with nothing recorded yet. */
export const emptyAttempt = (attempt: number): AttemptRecord => ({
  attempt,
  status: "pending",
  image: null,
  imageHash: null,
  command: null,
  codeHash: null,
  inputs: [],
  outputs: [],
  outputVariables: {},
  exitCode: null,
  stdout: "",
  stderr: "",
  logKey: null,
  logSha256: null,
  startedAt: null,
  endedAt: null,
  durationMs: null,
  host: null,
  error: null,
});

/** A fresh pending task record for a node. */
export const pendingTask = (node: WorkflowNode): TaskRecord => ({
  ...emptyAttempt(0),
  nodeId: node.id,
  type: node.type,
  status: "pending",
  attempts: [],
  contextSeq: null,
});

/** The attempt-level fields of a task record. */
export function stripAttempt(t: TaskRecord): AttemptRecord {
  const {
    nodeId: _n,
    type: _t,
    attempts: _a,
    contextSeq: _c,
    noActionReason: _r,
    waitingSince: _w,
    decisions: _d,
    submittedBy: _s,
    external: _x,
    retryDueAt: _r2,
    ...rest
  } = t;
  return { ...emptyAttempt(t.attempt), ...rest, status: t.status };
}

/** Milliseconds between two ISO timestamps (microsecond precision), or null without a start. */
export function durationBetween(from: string | null, to: string): number | null {
  if (!from) return null;
  return Math.round((parseIsoMicro(to) - parseIsoMicro(from)) * 1000) / 1000;
}

/** The run status that the waiting human steps imply. */
export function impliedStatus(tasks: Iterable<TaskRecord>): RunStatus {
  const statuses = [...tasks].map((t) => t.status);
  if (statuses.includes("awaiting_approval")) return "awaiting_approval";
  if (statuses.includes("awaiting_input")) return "awaiting_input";
  return "running";
}

/** When a waiting human step times out, in epoch ms, or null without a timeout. */
export function humanDeadline(node: HumanNode, task: TaskRecord): number | null {
  if (!node.timeoutSeconds || !task.waitingSince) return null;
  return parseIsoMicro(task.waitingSince) + node.timeoutSeconds * 1000;
}
