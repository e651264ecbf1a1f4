import type { Clock } from "./domain/clock.ts";
import type { BlobStore } from "./ports/blob-store.ts";
import type { ExportWorker } from "./ports/export-worker.ts";
import type { FileHooks } from "./ports/file-hooks.ts";
import type { JobRunOrchestrator } from "./ports/job-run-orchestrator.ts";
import type { Logger } from "./ports/logger.ts";
import type { CostMeter } from "./ports/metrics.ts";
import type { Orchestrator } from "./ports/orchestrator.ts";
import type { Repositories } from "./ports/repositories.ts";
import type { RunEvents } from "./ports/run-events.ts";
import type { RunStore } from "./ports/run-store.ts";
import type { SecretBox } from "./ports/secret-box.ts";
import type { TaskExecutors } from "./ports/task-executor.ts";
import type { TriggerAdapters } from "./ports/triggers.ts";

export type { SecretBox };

/** Tunables of the engine, per runtime. */
export interface Settings {
  engineVersion: string;
  /** Where task working directories are created (and removed after). */
  workRoot: string;
  /** sha256 of the platform key, the bootstrap admin of org `default`. */
  platformKeyHash: string | null;
  /** How long one Advance call may keep starting nodes. */
  advanceBudgetMs: number;
  /** How often a running Advance checks for a cancel request. */
  cancelPollMs: number;
  /** The longest single human wait the orchestrator can hold (the local interpreter's timers are bounded). */
  maxHumanWaitSeconds: number;
  /** How old a Standard execution may get before the run continues in a new one (default: 351 days). */
  continueAfterSeconds?: number;
}

/**
 * What every use case works with: the adapters of one runtime and the run-event publisher, built once by the
 * composition root (shared/services.ts) and never changed after. Typed throughout: no registry, no bag.
 */
export interface Deps {
  /** Runs: their records, tasks, audit chain and waits. */
  store: RunStore;
  /** One repository per other aggregate: jobs, schedules, subscriptions, deliveries, webhooks, ... */
  repos: Repositories;
  blobs: BlobStore;
  /** The run state machine's executions. */
  orchestrator: Orchestrator;
  /** The job-run state machine's executions. */
  jobOrchestrator: JobRunOrchestrator;
  clock: Clock;
  meter: CostMeter;
  logger: Logger;
  /** Runs the attempts of executable nodes, one executor per node type. */
  executors: TaskExecutors;
  /** Publishes run and job-run status changes to the subscribers the composition root listed. */
  events: RunEvents;
  /** Run files: place inputs, collect outputs, seal the evidence root. */
  files: FileHooks;
  /** Builds evidence bundles asynchronously (a Lambda in the cloud, in process embedded). */
  exportWorker: ExportWorker;
  /** Encrypts human-input secrets at rest; absent where the function has no key. */
  secrets?: SecretBox;
  /** Scheduler, publishers, delivery queue and their options. */
  triggers: TriggerAdapters;
  /** Aborted when the process shuts down: running tasks are stopped unrecorded, to resume on the next start. */
  stopping?: AbortSignal;
  settings: Settings;
}
