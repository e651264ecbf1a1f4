import type { LocalOrchestrator } from "../shared/adapters/local-orchestrator.ts";
import type { Deps } from "../shared/deps.ts";

export interface LocalAreaContext {
  dataDir: string;
  orchestrator: LocalOrchestrator;
  log: (line: string) => void;
  /** The examples folder loaded at start-up (null for none); areas load their own examples from it. */
  examplesDir?: string | null;
}

/** What an area runs in the background in embedded mode (schedulers, delivery workers). */
export interface LocalAreaHandle {
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** Wires one area into the embedded deps; called once at start-up, in a fixed order. */
export type LocalAreaWiring = (deps: Deps, ctx: LocalAreaContext) => Promise<LocalAreaHandle>;
