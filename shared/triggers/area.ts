import type { Deps } from "../deps.ts";
import type { TriggerAdapters } from "../ports/triggers.ts";

export * from "../ports/triggers.ts";

/** The triggers' adapters and options of these deps. */
export function triggersOf(deps: Deps): TriggerAdapters {
  return deps.triggers;
}
