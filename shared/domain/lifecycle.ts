import { ConflictError } from "../errors.ts";
import type { RunStatus, TaskStatus } from "./records.ts";

// The run lifecycle as a pure table: every status change goes through `assertRunTransition`.
const RUN_TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ["running", "failed", "cancelled"],
  running: ["running", "awaiting_approval", "awaiting_input", "succeeded", "no_action", "failed", "cancelled"],
  awaiting_approval: ["running", "awaiting_input", "succeeded", "no_action", "failed", "cancelled"],
  awaiting_input: ["running", "awaiting_approval", "succeeded", "no_action", "failed", "cancelled"],
  succeeded: [],
  no_action: [],
  failed: [],
  cancelled: [],
};

const TASK_TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  pending: ["running", "awaiting_approval", "awaiting_input", "skipped", "cancelled"],
  running: ["running", "succeeded", "failed", "cancelled"],
  awaiting_approval: ["awaiting_approval", "succeeded", "failed", "cancelled"],
  awaiting_input: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  skipped: [],
  cancelled: [],
};

export const canRunTransition = (from: RunStatus, to: RunStatus): boolean => RUN_TRANSITIONS[from].includes(to);
export const canTaskTransition = (from: TaskStatus, to: TaskStatus): boolean => TASK_TRANSITIONS[from].includes(to);

/** Throws ConflictError unless the run may move from `from` to `to`. */
export function assertRunTransition(from: RunStatus, to: RunStatus): void {
  if (!canRunTransition(from, to)) throw new ConflictError(`run cannot go from ${from} to ${to}`);
}

/** Throws ConflictError unless the task may move from `from` to `to`. */
export function assertTaskTransition(nodeId: string, from: TaskStatus, to: TaskStatus): void {
  if (!canTaskTransition(from, to)) throw new ConflictError(`task '${nodeId}' cannot go from ${from} to ${to}`);
}
