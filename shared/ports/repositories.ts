import type { Page, WorkflowRef } from "../domain/records.ts";
import type { Lane } from "../engine/lane.ts";
import type { IdempotencyRepository, KeyRepository, WorkflowRepository } from "./access-repositories.ts";
import type { JobRepository } from "./job-repository.ts";
import type { PageRequest } from "./run-store.ts";
import type {
  DeliveryRepository,
  ScheduleRepository,
  SubscriptionRepository,
  WebhookRepository,
} from "./trigger-repositories.ts";

// One repository per aggregate besides runs (shared/ports/run-store.ts). Use cases speak in records; every key,
// index and condition is the adapter's (shared/adapters/dynamo/). Conditional writes follow the optimistic-update
// contract (shared/kernel/optimistic-update.ts): when another writer won they throw StaleStateError.

export type ArchiveKind = "workflow" | "job";

/** Marks a workflow or job archived, beside (not inside) its records. */
export interface ArchiveMarker {
  kind: ArchiveKind;
  name: string;
  archivedAt: string;
  archivedBy: string;
}

export interface ArchiveRepository {
  get(orgId: string, kind: ArchiveKind, name: string): Promise<ArchiveMarker | null>;
  put(orgId: string, marker: ArchiveMarker): Promise<void>;
  /** Removes the marker; true when there was one. */
  delete(orgId: string, kind: ArchiveKind, name: string): Promise<boolean>;
  /** Every marker of the org. */
  all(orgId: string): Promise<ArchiveMarker[]>;
}

export interface RetentionSettings {
  /** Logs and file contents of runs that ended more than this many days ago are deleted; null keeps all. */
  days: number | null;
  /** Keep run records, task evidence (hashes) and the audit chain after the contents are gone. */
  keepEvidence: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** What the sweep did to one run, remembered so that a run is swept once. */
export interface PurgeRecord {
  at: string;
  keepEvidence: boolean;
  days: number | null;
}

export interface RetentionRepository {
  getSettings(orgId: string): Promise<RetentionSettings | null>;
  /** Stores the org's settings (and lists the org for the sweep). */
  putSettings(orgId: string, settings: RetentionSettings): Promise<void>;
  /** The orgs that have settings. */
  orgsWithSettings(page: PageRequest): Promise<Page<{ orgId: string }>>;
  markPurged(orgId: string, runId: string, purge: PurgeRecord): Promise<void>;
  isPurged(orgId: string, runId: string): Promise<boolean>;
}

/** One human input's secret fields, each sealed by the secret box. */
export interface SealedSecrets {
  nodeId: string;
  sealed: Record<string, string>;
}

export interface RunSecretRepository {
  /** Stores one node's sealed secrets, to be forgotten after `expiresAt` (epoch seconds) at the latest. */
  put(orgId: string, runId: string, secrets: SealedSecrets, expiresAt: number): Promise<void>;
  /** The run's sealed secrets, one entry per human input node. */
  list(orgId: string, runId: string): Promise<SealedSecrets[]>;
  deleteAll(orgId: string, runId: string): Promise<void>;
}

/** One task attempt's use of some content: it wrote it under out/ or read it from in/. */
export interface FileUse {
  role: "produced" | "read";
  nodeId: string;
  attempt: number;
  path: string;
  sha256: string;
  size: number;
}

/** An entry of the cross-run index: who in the org produced or read a given content. */
export interface FileUseItem extends FileUse {
  orgId: string;
  runId: string;
  workflow: WorkflowRef;
  at: string;
}

/** File lineage: the org-wide index of file uses, by content. */
export interface FileUseRepository {
  /** Records a use (idempotent: the same use written twice is one entry). */
  put(use: FileUseItem): Promise<void>;
  /** Every use of the content in the org, newest runs first. */
  listByContent(orgId: string, sha256: string, page: PageRequest): Promise<Page<FileUseItem>>;
}

/** A run waiting for a slot of its workflow's concurrency limit. */
export interface QueueEntry {
  runId: string;
  /** The lane chosen at trigger (absent on entries queued before lanes existed: standard). */
  lane?: Lane;
}

/** The runs holding a workflow's concurrency slots, at a revision. */
export interface Slots {
  holders: string[];
  ver: number;
}

/** A workflow's concurrency gate: its slots and its queue, both keyed by the workflow's name (all versions). */
export interface ConcurrencyRepository {
  enqueue(orgId: string, workflow: string, entry: QueueEntry): Promise<void>;
  isQueued(orgId: string, workflow: string, runId: string): Promise<boolean>;
  /** The oldest queued entries (by runId, the trigger order). */
  queue(orgId: string, workflow: string, limit: number): Promise<QueueEntry[]>;
  dequeue(orgId: string, workflow: string, runId: string): Promise<void>;
  /** The slots (none held, revision 0, when never written). */
  slots(orgId: string, workflow: string): Promise<Slots>;
  /** Writes the holders at revision `readVer + 1`, conditional on `readVer`. */
  saveSlots(orgId: string, workflow: string, holders: string[], readVer: number): Promise<void>;
}

/** Every repository of one runtime (deps.repos). */
export interface Repositories {
  keys: KeyRepository;
  workflows: WorkflowRepository;
  idempotency: IdempotencyRepository;
  jobs: JobRepository;
  schedules: ScheduleRepository;
  subscriptions: SubscriptionRepository;
  deliveries: DeliveryRepository;
  webhooks: WebhookRepository;
  archive: ArchiveRepository;
  retention: RetentionRepository;
  runSecrets: RunSecretRepository;
  fileUses: FileUseRepository;
  concurrency: ConcurrencyRepository;
}
