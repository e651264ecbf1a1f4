import type { Deps } from "../deps.ts";
import { isTerminalRun } from "../domain/records.ts";
import { finishRun, RunSession } from "../run-session.ts";
import { HUMAN_REJECTED } from "../state-machine/run-state-machine.ts";

/**
 * AwaitHuman: stores the task token of the run's human wait, then re-reads the run: if anything happened
 * since Advance returned (a decision that found no token yet, a cancel), the execution resumes at once.
 */
export async function awaitHuman(
  deps: Deps,
  ids: { orgId: string; runId: string; token: string; seq: number },
): Promise<void> {
  await deps.store.putWaitToken(ids.orgId, ids.runId, ids.token, new Date(deps.clock.nowMs()).toISOString());
  const state = await deps.store.loadRun(ids.orgId, ids.runId);
  if (!state || isTerminalRun(state.run.status) || state.head.seq > ids.seq) {
    await deps.orchestrator.sendTaskSuccess(ids.token, { resumedBy: "await-human" });
  }
}

/** Ends the run's human wait with `send`, then forgets its token; harmless when nothing waits. */
async function settleWait(
  deps: Deps,
  orgId: string,
  runId: string,
  send: (token: string) => Promise<boolean>,
): Promise<void> {
  const token = await deps.store.getWaitToken(orgId, runId);
  if (token && (await send(token))) await deps.store.deleteWaitToken(orgId, runId);
}

/** Wakes the run's execution after a human step changed. */
export const wakeRun = (deps: Deps, orgId: string, runId: string): Promise<void> =>
  settleWait(deps, orgId, runId, (token) => deps.orchestrator.sendTaskSuccess(token, { resumedBy: "decision" }));

/**
 * A rejection ends the wait with SendTaskFailure, so the execution's history shows the step failing; the machine
 * catches it and Advance fails the run from the step's record (who rejected and why).
 */
export const rejectWait = (deps: Deps, orgId: string, runId: string, cause: string): Promise<void> =>
  settleWait(deps, orgId, runId, (token) => deps.orchestrator.sendTaskFailure(token, HUMAN_REJECTED, cause));

/** RecordFailure: a handler error the state machine caught ends the run as failed with the reason. */
export async function recordFailure(
  deps: Deps,
  ids: { orgId: string; runId: string; error?: { Error?: string; Cause?: string } },
): Promise<{ runId: string; orgId: string }> {
  const state = await deps.store.loadRun(ids.orgId, ids.runId);
  if (state && !isTerminalRun(state.run.status)) {
    let message = ids.error?.Cause ?? "the engine failed";
    try {
      const parsed = JSON.parse(message) as { errorMessage?: string };
      if (parsed.errorMessage) message = parsed.errorMessage;
    } catch {
      // Cause is plain text
    }
    await finishRun(new RunSession(deps, state), "failed", {
      error: { code: ids.error?.Error ?? "engine_error", message: message.slice(0, 1000) },
    });
  }
  return { runId: ids.runId, orgId: ids.orgId };
}

/**
 * Reconcile: an execution that ended outside the handlers (timed out, aborted, failed) leaves a run that
 * is not terminal; it becomes failed (or cancelled when a cancel was requested).
 */
export async function reconcileExecution(
  deps: Deps,
  ids: { orgId: string; runId: string; executionStatus: string },
): Promise<{ changed: boolean }> {
  const state = await deps.store.loadRun(ids.orgId, ids.runId);
  if (!state || isTerminalRun(state.run.status)) return { changed: false };
  const session = new RunSession(deps, state);
  if (state.run.cancelRequest) await finishRun(session, "cancelled", {});
  else
    await finishRun(session, "failed", {
      error: { code: "execution_ended", message: `the run's execution ended with status ${ids.executionStatus}` },
    });
  return { changed: true };
}
