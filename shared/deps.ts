import type { Clock } from "./domain/clock.ts";
import type { BlobStore } from "./ports/blob-store.ts";
import type { ItemStore } from "./ports/item-store.ts";
import type { CostMeter } from "./ports/metrics.ts";
import type { Orchestrator } from "./ports/orchestrator.ts";
import type { RunStore } from "./ports/run-store.ts";

/** Everything a use case may need, wired once per runtime (a Lambda, the local server, a test). */
export interface Deps {
  store: RunStore & ItemStore;
  blobs: BlobStore;
  orchestrator: Orchestrator;
  clock: Clock;
  meter: CostMeter;
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
