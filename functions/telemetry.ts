import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type { RunKeys } from "../shared/ports/logger.ts";

export type { RunKeys };

/**
 * What every handler runs inside: the runtime's logging context, tracing and metrics. The cloud's is Powertools
 * (functions/powertools-telemetry.ts); the embedded mode's is `noTelemetry`, since it prints its own readable lines
 * (one per request, one per run status change) and its bench reads the meter directly.
 */
export interface HandlerTelemetry {
  /**
   * A middy chain with the telemetry middlewares outermost (so they see every error, including a parser's), which
   * tags the invocation with the keys `keys` finds in the event.
   */
  chain<E, R, C extends Context = Context>(keys?: (event: E) => RunKeys): middy.MiddyfiedHandler<E, R, Error, C>;
  /** Adds keys found later in the invocation (the API caller's org, a run id from a path) to its logs and metrics. */
  tag(keys: RunKeys): void;
  /**
   * Counts Step Functions state transitions a handler's result leads to: no adapter sees them in the cloud (the
   * embedded interpreter counts the states it enters itself, so there this does nothing).
   */
  transitions(count: number): void;
}

/** No telemetry: a bare middy chain (the embedded mode, unit tests). */
export const noTelemetry: HandlerTelemetry = {
  chain: <E, R, C extends Context = Context>() => middy<E, R, Error, C>(),
  tag: () => {},
  transitions: () => {},
};

const KEY_PATTERN = { runId: /^run_/, jobRunId: /^jr_/, orgId: /./ } as const;

/** The run keys at the top of a state-machine payload or a trigger event ({runId, orgId, …}), when it has them. */
export function keysOf(event: unknown): RunKeys {
  const keys: RunKeys = {};
  if (!event || typeof event !== "object") return keys;
  for (const [name, pattern] of Object.entries(KEY_PATTERN) as [keyof RunKeys, RegExp][]) {
    const value = (event as Record<string, unknown>)[name];
    if (typeof value === "string" && pattern.test(value)) keys[name] = value;
  }
  return keys;
}
