import type { NodeType, ValueType } from "./workflow.ts";

export const RUN_STATUSES = [
  "queued",
  "running",
  "awaiting_approval",
  "awaiting_input",
  "succeeded",
  "no_action",
  "failed",
  "cancelled",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["succeeded", "no_action", "failed", "cancelled"];
export const isTerminalRun = (s: RunStatus): boolean => TERMINAL_RUN_STATUSES.includes(s);

export const TASK_STATUSES = [
  "pending",
  "running",
  "awaiting_approval",
  "awaiting_input",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const isTerminalTask = (s: TaskStatus): boolean =>
  s === "succeeded" || s === "failed" || s === "skipped" || s === "cancelled";

export type Role = "admin" | "operator" | "approver" | "viewer";
export const ROLES: readonly Role[] = ["admin", "operator", "approver", "viewer"];

export interface Principal {
  orgId: string;
  keyId: string;
  role: Role;
  /** The user a key acts for (its name); recorded as actor and createdBy. */
  userId: string;
  platform: boolean;
}

export interface WorkflowRef {
  name: string;
  version: number;
  definitionHash: string;
}

export type TriggerType = "manual" | "schedule" | "webhook" | "job" | "rerun" | "restart";
export interface Trigger {
  type: TriggerType;
  userId?: string;
  [extra: string]: unknown;
}

export interface RunError {
  code: string;
  message: string;
  nodeId?: string;
}

export interface RunRecord {
  runId: string;
  orgId: string;
  workflow: WorkflowRef;
  engineVersion: string;
  status: RunStatus;
  trigger: Trigger;
  createdBy: string;
  jobRunId: string | null;
  rerunOf: string | null;
  /** The run this one restarted (its carried-over tasks point there); absent on older records. */
  restartOf?: string | null;
  /** Why a queued run has not started (`concurrency_limit`); absent or null otherwise. */
  queuedReason?: string | null;
  parameters: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  completedAt: string | null;
  error: RunError | null;
  noActionReason: string | null;
  cancelRequest?: { by: string; reason: string | null; at: string } | null;
  /** The evidence root hash, sealed when the run ends. */
  root?: string | null;
  /** The Step Functions lane chosen at trigger (shared/engine/lane.ts); absent on older records: standard. */
  lane?: "standard" | "express";
}

export interface FileRef {
  path: string;
  sha256: string;
  size: number;
}

export interface TypedValue {
  type: ValueType;
  value: unknown;
}

/** Evidence of one attempt at a task. */
export interface AttemptRecord {
  attempt: number;
  status: TaskStatus | "interrupted";
  image: string | null;
  imageHash: string | null;
  command: string | null;
  codeHash: string | null;
  inputs: FileRef[];
  outputs: FileRef[];
  outputVariables: Record<string, TypedValue>;
  /** Output variables whose value held a secret of the run and was masked (names only); absent when none. */
  maskedOutputs?: string[];
  exitCode: number | null;
  stdout: string;
  stderr: string;
  logKey: string | null;
  /** The whole log when it was small enough to keep in the record (then logKey is null); logSha256 is its hash. */
  logInline?: string;
  logSha256: string | null;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  host: string | null;
  error: RunError | null;
}

/**
 * Work an executor started that finishes outside the Advance call (an ECS task, a podman container): the task
 * record keeps it while the task runs externally, and the wake-up hands it back to `complete`.
 */
export interface ExternalHandle {
  /** The executor's own reference (a task ARN, a container id). */
  ref: string;
  /** When the attempt started, ISO 8601. */
  startedAt: string;
  /** When the attempt times out (epoch ms): past it, the engine stops it and records a timeout. */
  deadlineMs: number;
  /** Anything else the executor needs to complete or stop it (JSON). */
  data?: Record<string, unknown>;
}

export interface Decision {
  by: string;
  role: Role;
  decision: "approve" | "reject" | "timeout";
  comment: string | null;
  at: string;
  contextHash: string;
}

export interface TaskRecord extends AttemptRecord {
  nodeId: string;
  type: NodeType;
  status: TaskStatus;
  attempts: AttemptRecord[];
  /** Audit sequence number of the event that completed the task; orders context writes. */
  contextSeq: number | null;
  noActionReason?: string | null;
  /** Human steps: since when the step waits, and the decisions so far. */
  waitingSince?: string | null;
  decisions?: Decision[];
  submittedBy?: string | null;
  /** A task carried over by a restart: the run and attempt whose evidence (and stored files) it is. */
  reusedFrom?: { runId: string; attempt: number } | null;
  /** While the task runs externally (a container): what its executor needs to complete or stop it. */
  external?: ExternalHandle | null;
  /** When a retry of an external attempt is due (no Advance call holds its backoff timer meanwhile). */
  retryDueAt?: string;
}

export interface AuditEvent {
  seq: number;
  at: string;
  type: string;
  from: string | null;
  to: string | null;
  actor: string;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
