// Shapes of the public HTTP API (docs: /work/shared/contract/api.md). The dashboard keeps its own copy
// instead of importing the server's types so that it can only ever depend on the published contract.

export type RunStatus =
  | "queued"
  | "running"
  | "awaiting_approval"
  | "awaiting_input"
  | "succeeded"
  | "no_action"
  | "failed"
  | "cancelled";

export type TaskStatus =
  | "pending"
  | "running"
  | "awaiting_approval"
  | "awaiting_input"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";

export type JobRunStatus = "pending" | "in_progress" | "completed" | "failed" | "cancelled";

export const RUN_STATUSES: readonly RunStatus[] = [
  "queued",
  "running",
  "awaiting_approval",
  "awaiting_input",
  "succeeded",
  "no_action",
  "failed",
  "cancelled",
];
export const TERMINAL_RUN_STATUSES: readonly string[] = ["succeeded", "no_action", "failed", "cancelled"];
export const JOB_RUN_STATUSES: readonly JobRunStatus[] = ["pending", "in_progress", "completed", "failed", "cancelled"];
export const TERMINAL_JOB_RUN_STATUSES: readonly string[] = ["completed", "failed", "cancelled"];

/** True once a run can no longer change, so polling may stop. */
export const isTerminalRun = (status: string | undefined): boolean =>
  status !== undefined && TERMINAL_RUN_STATUSES.includes(status);
export const isTerminalJobRun = (status: string | undefined): boolean =>
  status !== undefined && TERMINAL_JOB_RUN_STATUSES.includes(status);

export type Role = "admin" | "operator" | "approver" | "viewer";
export type ValueType = "string" | "number" | "boolean" | "json";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface WhoAmI {
  orgId: string;
  keyId: string;
  role: Role;
  userId: string;
}

export interface ParameterSpec {
  type: ValueType;
  required?: boolean;
  default?: unknown;
  description?: string;
}

export interface InputFieldSpec {
  type: "string" | "number" | "boolean" | "enum";
  values?: string[];
  required?: boolean;
  pattern?: string;
  secret?: boolean;
  description?: string;
}

export interface WorkflowNode {
  id: string;
  type: "script" | "command" | "approval" | "input" | "wait";
  needs?: string[];
  description?: string;
  runtime?: string;
  code?: string;
  command?: string;
  inputs?: string[];
  retry?: { maxAttempts: number; backoffSeconds?: number };
  timeoutSeconds?: number;
  approvers?: { count?: number; roles?: Role[] };
  allowSelfApproval?: boolean;
  fields?: Record<string, InputFieldSpec>;
  seconds?: number;
  onTimeout?: string;
}

export interface WorkflowDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, ParameterSpec>;
  concurrency?: { limit: number };
  nodes: WorkflowNode[];
}

export interface WorkflowRef {
  name: string;
  version: number;
  definitionHash: string;
}

export interface WorkflowSummary {
  name: string;
  version?: number;
  definitionHash?: string;
  description?: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface WorkflowDetail extends WorkflowRef {
  definition: WorkflowDefinition;
  createdAt: string;
}

export interface WorkflowVersion {
  name?: string;
  version: number;
  definitionHash: string;
  createdAt?: string;
  createdBy?: string;
  definition?: WorkflowDefinition;
}

export interface Trigger {
  type: "manual" | "schedule" | "webhook" | "job" | "rerun" | string;
  userId?: string;
  [extra: string]: unknown;
}

export interface ContextEntry {
  type: ValueType;
  value: unknown;
  writtenBy?: string | null;
}

export interface RunError {
  code: string;
  message: string;
  nodeId?: string;
}

export interface RunSummary {
  runId: string;
  workflow: WorkflowRef;
  status: RunStatus;
  trigger?: Trigger;
  createdBy?: string;
  jobRunId?: string | null;
  createdAt: string;
  startedAt?: string | null;
  updatedAt?: string;
  completedAt?: string | null;
  currentStateName?: string | null;
  /** Why a queued run waits (`concurrency_limit`); null once it started. */
  queuedReason?: string | null;
}

export interface Run extends RunSummary {
  orgId: string;
  engineVersion: string;
  trigger: Trigger;
  rerunOf: string | null;
  parameters: Record<string, unknown>;
  context: Record<string, ContextEntry>;
  error: RunError | null;
  noActionReason: string | null;
  root?: string | null;
  restartOf?: string | null;
  cancelReason?: string | null;
  cancelledBy?: string | null;
}

export interface FileRef {
  path: string;
  sha256: string;
  size: number;
}

export interface Attempt {
  attempt: number;
  status: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  exitCode?: number | null;
  error?: RunError | null;
}

export interface Decision {
  by: string;
  decision: "approve" | "reject" | "timeout" | string;
  comment: string | null;
  at: string;
  role?: Role;
}

export interface TaskRecord {
  nodeId: string;
  type: WorkflowNode["type"];
  status: TaskStatus;
  attempt: number;
  image?: string | null;
  imageHash?: string | null;
  command?: string | null;
  codeHash?: string | null;
  inputs?: FileRef[];
  outputs?: FileRef[];
  outputVariables?: Record<string, { type: ValueType; value: unknown }>;
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  host?: string | null;
  error?: RunError | null;
  attempts?: Attempt[];
  waitingSince?: string | null;
  decisions?: Decision[];
  submittedBy?: string | null;
}

export interface RunFile extends FileRef {
  producedBy?: string;
}

export interface LineageNode {
  id: string;
  kind: "parameter" | "task" | "file" | string;
  label?: string;
  name?: string;
  path?: string;
  nodeId?: string;
  sha256?: string;
  [extra: string]: unknown;
}

export interface Lineage {
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
}

export interface VerifyResult {
  valid: boolean;
  root: string | null;
  problems: unknown[];
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

/** An item of GET /api/approvals: a human step waiting for someone. */
export interface PendingHumanStep {
  runId: string;
  nodeId: string;
  type?: "approval" | "input" | string;
  workflow?: WorkflowRef | string;
  description?: string | null;
  since?: string | null;
  timeoutAt?: string | null;
  triggeredBy?: string | null;
  whoMayAnswer?: Role[];
  allowSelfApproval?: boolean;
  onTimeout?: string;
  approvals?: { required: number; received: number; decisions?: Decision[] };
  fields?: Record<string, InputFieldSpec>;
}

export interface JobSummary {
  name: string;
  description?: string;
  workflowExecutionOrder?: string[];
}

export interface JobRunSummary {
  jobRunId: string;
  job: string;
  status: JobRunStatus;
  createdBy?: string;
  createdAt: string;
  updatedAt?: string;
  completedAt?: string | null;
}

export interface JobRun extends JobRunSummary {
  jobConfigJsonSnapshot: {
    workflowExecutionOrder?: string[];
    parameters?: Record<string, unknown>;
    [k: string]: unknown;
  };
  workflowRuns: { workflow: string; runId: string; status: RunStatus }[];
}

export interface TriggerResult {
  runId: string;
  status: RunStatus;
  workflow: WorkflowRef;
}
