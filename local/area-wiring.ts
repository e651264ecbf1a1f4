import type { Context } from "aws-lambda";
import type { LocalOrchestrator } from "../shared/adapters/local-orchestrator.ts";
import type { Deps } from "../shared/deps.ts";

/** Calls a Lambda handler in process the way the Lambda runtime would, tracked for a clean shutdown. */
export type LocalCall = <T>(
  handler: (event: unknown, context: Context) => Promise<T>,
  name: string,
) => (payload: unknown) => Promise<T>;

export interface LocalAreaContext {
  dataDir: string;
  call: LocalCall;
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
