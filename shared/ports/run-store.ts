import type { AuditEvent, Page, Role, RunRecord, RunStatus, TaskRecord } from "../domain/records.ts";
import type { WorkflowDefinition } from "../domain/workflow.ts";

/** A run as stored: the run item, its task items, and the head of its audit chain. */
export interface RunState {
  run: RunRecord;
  tasks: Map<string, TaskRecord>;
  head: { seq: number; hash: string };
}

export type ChangeTarget = { kind: "run" } | { kind: "task"; nodeId: string };

/** One audited change: an audit event plus the full next version of the item it targets. */
export interface Change {
  target: ChangeTarget;
  event: { type: string; from: string | null; to: string | null; actor: string; detail: Record<string, unknown> };
  next: RunRecord | TaskRecord;
}

export interface WorkflowVersion {
  orgId: string;
  name: string;
  version: number;
  definitionHash: string;
  definition: WorkflowDefinition;
  createdAt: string;
  createdBy: string;
}

export interface KeyRecord {
  keyId: string;
  orgId: string;
  name: string;
  role: Role;
  keyHash: string;
  createdAt: string;
  createdBy: string;
  platform?: boolean;
}

export interface RunFilter {
  workflow?: string;
  status?: RunStatus;
  jobRunId?: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string | null;
}

/** A run's records exactly as stored (the table's own attributes removed): what evidence verification re-hashes. */
export interface StoredRun {
  run: Record<string, unknown> | null;
  tasks: Array<Record<string, unknown>>;
  audit: Array<Record<string, unknown>>;
}

/** Storage of runs, their tasks and the hash-chained audit trail (other aggregates: ./repositories.ts). */
export interface RunStore {
  // Runs
  createRun(run: RunRecord, actor: string): Promise<RunState>;
  loadRun(orgId: string, runId: string): Promise<RunState | null>;
  /** Appends the change's audit event (conditional on the chain head) then writes the record. Throws StaleStateError. */
  commit(state: RunState, change: Change, at: string): Promise<void>;
  /**
   * Commits several changes at once, in order, as one audit item (each change its own chained event): all of
   * them or, when another writer moved the chain first, none (StaleStateError). Each record is written once.
   * With `deferRecords`, task records wait with the state (loads replay them from the audit trail) until a commit
   * changes the run record or moves a task into or out of a human wait, or writeRecords: the engine's records once per call.
   */
  commitAll(state: RunState, changes: Change[], at: string, opts?: { deferRecords?: boolean }): Promise<void>;
  /**
   * Writes the record versions the state's commits deferred (and those a load found ahead of their items), oldest
   * commit first; `settledOnly`: only the oldest commits whose records are all ended tasks (no extra write).
   */
  writeRecords(state: RunState, opts?: { settledOnly?: boolean }): Promise<void>;
  getRunStatus(orgId: string, runId: string): Promise<RunStatus | null>;
  listRuns(orgId: string, filter: RunFilter, page: PageRequest): Promise<Page<RunRecord>>;
  listAudit(orgId: string, runId: string): Promise<AuditEvent[]>;
  listActiveRuns(): Promise<Array<{ orgId: string; runId: string }>>;
  /** The run's records as stored, for verification and export. */
  storedRun(orgId: string, runId: string): Promise<StoredRun>;
  /** Deletes every record of a run (retention without evidence kept); returns how many. */
  deleteRunRecords(orgId: string, runId: string): Promise<number>;

  /** The org's waiting human steps, oldest first (the approvals inbox). */
  listWaitingHumanSteps(
    orgId: string,
    page: PageRequest,
  ): Promise<Page<{ runId: string; nodeId: string; waitingSince: string }>>;

  // The task token of a run's current human wait (never returned by the API).
  putWaitToken(orgId: string, runId: string, token: string, at: string): Promise<void>;
  getWaitToken(orgId: string, runId: string): Promise<string | null>;
  deleteWaitToken(orgId: string, runId: string): Promise<void>;
}
