import type { Deps } from "../deps.ts";
import { parseIsoMicro } from "../domain/clock.ts";
import { isTerminalRun } from "../domain/records.ts";
import { EXPRESS_MAX_SECONDS } from "../engine/lane.ts";
import { ADVANCE_TIMEOUT_SECONDS } from "../state-machine/run-state-machine.ts";
import { reconcileExecution } from "./state-machine-tasks.ts";

/**
 * How old a non-terminal Express run must be before the sweep calls its execution dead: Express's five minutes,
 * plus the fifteen the last Advance invocation it started may still run (Lambda is not stopped with the execution).
 */
export const EXPRESS_DEAD_AFTER_MS = (EXPRESS_MAX_SECONDS + ADVANCE_TIMEOUT_SECONDS) * 1000;

/**
 * Express executions publish no status events, so nothing tells the reconciler when one dies (timed out, its
 * Lambda failed past the Catch). This sweep finds Express runs still not terminal when no execution or Advance of
 * theirs can be alive and hands each to the same reconcile use case the EventBridge rule calls for Standard runs.
 */
export async function sweepDeadExpressRuns(deps: Deps): Promise<{ reconciled: string[] }> {
  const reconciled: string[] = [];
  const now = deps.clock.nowMs();
  for (const { orgId, runId } of await deps.store.listActiveRuns()) {
    const state = await deps.store.loadRun(orgId, runId);
    if (state?.run.lane !== "express" || isTerminalRun(state.run.status)) continue;
    if (now - parseIsoMicro(state.run.createdAt) < EXPRESS_DEAD_AFTER_MS) continue;
    const { changed } = await reconcileExecution(deps, { orgId, runId, executionStatus: "TIMED_OUT" });
    if (changed) reconciled.push(runId);
  }
  return { reconciled };
}
