// Shapes of the public HTTP API, generated from docs/openapi.json (shared/contract/api-types.ts, npm run docs):
// the dashboard depends on the published contract only, never on the server's records.
import type { components } from "../../shared/contract/api-types.ts";

type Schemas = components["schemas"];

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

export type ErrorDetail = NonNullable<Schemas["Error"]["error"]["details"]>[number];
export type WhoAmI = Schemas["Whoami"];
/** An asynchronous export of a run's evidence bundle (POST /api/runs/{runId}/exports). */
export type ExportStatus = Schemas["ExportStatus"];
type KeysOf<U> = U extends unknown ? keyof U : never;
type ValueOf<U, K extends PropertyKey> = U extends unknown ? (K extends keyof U ? U[K] : never) : never;
/** A union's members merged into one object type: every member's fields, each optional. */
type Flattened<U> = { [K in KeysOf<U>]?: ValueOf<U, K> };
type GeneratedNode = Schemas["WorkflowDefinition"]["nodes"][number];
/** A node as the pages read it: its id and type, and any node type's fields (each optional). */
export type WorkflowNode = Pick<GeneratedNode, "id" | "type"> & Flattened<GeneratedNode>;
export type WorkflowDefinition = Omit<Schemas["WorkflowDefinition"], "nodes"> & { nodes: WorkflowNode[] };
export type ParameterSpec = NonNullable<WorkflowDefinition["parameters"]>[string];
export type InputFieldSpec = NonNullable<Extract<GeneratedNode, { type: "input" }>["fields"]>[string];
export type WorkflowRef = Schemas["WorkflowRef"];
export type WorkflowSummary = Schemas["WorkflowList"]["items"][number];
export type WorkflowDetail = Schemas["WorkflowVersion"];
export type WorkflowVersion = Schemas["WorkflowVersion"];
export type Trigger = Schemas["Trigger"];
export type ContextEntry = Schemas["Run"]["context"][string];
export type RunError = Schemas["RunError"];
export type RunSummary = Schemas["RunSummary"];
export type Run = Schemas["Run"];
export type FileRef = Schemas["FileRef"];
export type Attempt = Schemas["Attempt"];
export type Decision = Schemas["Decision"];
export type TaskRecord = Schemas["Task"];
export type RunFile = Schemas["RunFileList"]["items"][number];
export type LineageNode = Schemas["RunLineage"]["nodes"][number];
export type Lineage = Schemas["RunLineage"];
export type VerifyResult = Schemas["VerifyReport"];
export type AuditEvent = Schemas["AuditEvent"];
/** An item of GET /api/approvals: a human step waiting for someone. */
type GeneratedStep = Schemas["HumanStepList"]["items"][number];
export type PendingHumanStep = Pick<GeneratedStep, keyof GeneratedStep> & Flattened<GeneratedStep>;
export type JobSummary = Schemas["Job"];
export type JobRunSummary = Schemas["JobRun"];
export type JobRun = Schemas["JobRun"];
export type TriggerResult = Schemas["RunAccepted"];
