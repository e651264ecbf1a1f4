import type { Clock } from "./domain/clock.ts";
import type { RunRecord, RunStatus } from "./domain/records.ts";
import type { BlobStore } from "./ports/blob-store.ts";
import type { FileHooks } from "./ports/file-hooks.ts";
import type { ItemStore } from "./ports/item-store.ts";
import type { CostMeter } from "./ports/metrics.ts";
import type { Orchestrator } from "./ports/orchestrator.ts";
import type { RunStore } from "./ports/run-store.ts";
import type { TaskExecutors } from "./ports/task-executor.ts";

/** Everything a use case may need, wired once per runtime (a Lambda, the local server, a test). */
export interface Deps {
  store: RunStore & ItemStore;
  blobs: BlobStore;
  orchestrator: Orchestrator;
  clock: Clock;
  meter: CostMeter;
  /** Runs the attempts of executable nodes, one executor per node type. */
  executors: TaskExecutors;
  /** Called after every run status change (notifications, job runs); errors are logged, never thrown. */
  runListeners: Array<(run: RunRecord, from: RunStatus | null) => Promise<void>>;
  /** Run files: place inputs, collect outputs (evidence area). */
  files?: FileHooks;
  /** Encrypts human-input secrets at rest (human-steps area). */
  secrets?: SecretBox;
  /** Aborted when the process shuts down: running tasks are stopped unrecorded, to resume on the next start. */
  stopping?: AbortSignal;
  /** Area-specific services, keyed by area name (jobs, triggers, …). */
  areas: Record<string, unknown>;
  settings: {
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
  };
}

/** Symmetric encryption of secret values (KMS in the cloud, a local key file embedded). */
export interface SecretBox {
  encrypt(plaintext: string, context: Record<string, string>): Promise<string>;
  decrypt(ciphertext: string, context: Record<string, string>): Promise<string>;
}
