// Continue-as-new of a run's Standard execution. Step Functions ends a Standard execution after one year, and a
// human wait may last 365 days: before the execution gets that old, the run goes on in a new execution of the same
// machine (the ASL's ContinueAsNew state), named after the run with a continuation number, and the audit trail says
// so (`run.execution_continued`). Waits are cut short so that the execution wakes before the limit; Advance then
// finds the step still waiting (its deadline is in the record) and this turns the wake into a continuation.
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { ENGINE_ACTOR, RunSession } from "../run-session.ts";
import type { AdvanceOutput } from "../state-machine/run-state-machine.ts";

/** Continue before 351 days: two weeks short of Step Functions' one-year limit on a Standard execution. */
export const CONTINUE_AFTER_SECONDS = 351 * 86400;

/** The execution an Advance call runs in, from the ASL context object ($$.Execution). */
export interface ExecutionInfo {
  name: string;
  startTime: string;
}

/** The name of the next execution of a run: `<runId>-c<n>`, counting the continuations (execution names are unique). */
export function continuationName(runId: string, current: string): string {
  const m = /-c(\d+)$/.exec(current);
  return `${runId}-c${m ? Number(m[1]) + 1 : 1}`;
}

/**
 * What the execution does after Advance, given its age: continue as new once `limitSeconds` have passed while the
 * run still has work or waits ahead; otherwise wait no longer than the time it has left.
 */
export function applyExecutionAge(
  out: AdvanceOutput,
  execution: ExecutionInfo | undefined,
  nowMs: number,
  limitSeconds = CONTINUE_AFTER_SECONDS,
): AdvanceOutput {
  if (!execution || out.next === "failed" || out.next === "done") return out;
  const started = Date.parse(execution.startTime);
  if (Number.isNaN(started)) return out;
  const left = Math.floor(limitSeconds - (nowMs - started) / 1000);
  if (left <= 0) return { ...out, next: "continue", continueAs: continuationName(out.runId, execution.name) };
  if (out.next === "human" && (out.Payload?.humanTimeoutSeconds ?? 0) > left)
    return { ...out, Payload: { humanTimeoutSeconds: left } };
  if (out.next === "wait" && (out.waitSeconds ?? 0) > left) return { ...out, waitSeconds: left };
  return out;
}

/**
 * Advance's answer in its execution: cut to the execution's remaining time, or a continuation, recorded in the
 * run's audit trail before the machine starts the new execution.
 */
export async function continueIfDue(
  deps: Deps,
  out: AdvanceOutput,
  execution: ExecutionInfo | undefined,
): Promise<AdvanceOutput> {
  const next = applyExecutionAge(out, execution, deps.clock.nowMs(), deps.settings.continueAfterSeconds);
  if (next.next !== "continue" || !execution) return next;
  const state = await deps.store.loadRun(out.orgId, out.runId);
  if (!state) return out;
  const session = new RunSession(deps, state);
  await session.apply((s) => ({
    target: { kind: "run" },
    event: {
      type: "run.execution_continued",
      from: s.run.status,
      to: s.run.status,
      actor: ENGINE_ACTOR,
      detail: { from: execution.name, to: next.continueAs, executionStartedAt: execution.startTime },
    },
    next: { ...s.run, updatedAt: nowIso(deps.clock) },
  }));
  return next;
}
