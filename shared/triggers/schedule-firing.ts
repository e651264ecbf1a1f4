import type { Deps } from "../deps.ts";
import { isoMicro, nowIso, parseIsoMicro } from "../domain/clock.ts";
import { isTerminalRun, type Principal, type RunRecord, type RunStatus } from "../domain/records.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { startJobRunFor } from "../jobs/job-runs.ts";
import { retryOnStale } from "../kernel/optimistic-update.ts";
import { triggerRun } from "../runs/runs.ts";
import type { JobRunLike, ScheduleFiring } from "./area.ts";
import { triggersOf } from "./area.ts";
import { EMPTY_STATE, type FireOutcome, type ScheduleRecord, type ScheduleState } from "./schedule-records.ts";
import { targetArchived } from "./schedules.ts";

// Firing a schedule (the trigger handler, cloud and embedded) and draining its buffered firing when a run ends.

/** Fire claims are kept a week (DynamoDB TTL); a retried EventBridge invocation arrives within hours at most. */
const FIRE_CLAIM_TTL_SECONDS = 7 * 86400;

const getState = async (deps: Deps, orgId: string, name: string): Promise<ScheduleState> => ({
  ...EMPTY_STATE,
  ...(await deps.repos.schedules.getState(orgId, name)),
});

/** Changes a schedule's state with an optimistic revision check, retrying when another writer won. */
function updateState(
  deps: Deps,
  orgId: string,
  name: string,
  change: (s: ScheduleState) => Partial<ScheduleState> | null,
): Promise<ScheduleState | null> {
  return retryOnStale(
    async () => {
      const current = await getState(deps, orgId, name);
      const patch = change(current);
      if (!patch) return null;
      const next: ScheduleState = { ...current, ...patch, stateRev: current.stateRev + 1 };
      await deps.repos.schedules.saveState(orgId, name, next);
      return next;
    },
    {
      attempts: 8,
      exhausted: () => {
        throw new ConflictError(`schedule '${name}' kept changing`);
      },
    },
  );
}

const schedulePrincipal = (s: ScheduleRecord): Principal => ({
  orgId: s.orgId,
  keyId: `schedule:${s.name}`,
  role: "operator",
  userId: `schedule:${s.name}`,
  platform: false,
});

/** Whether the schedule's last run (or job run) is still going. */
async function lastStillGoing(deps: Deps, s: ScheduleRecord, st: ScheduleState): Promise<boolean> {
  if ("workflow" in s.target) {
    if (!st.lastRunId) return false;
    const status = await deps.store.getRunStatus(s.orgId, st.lastRunId);
    return status !== null && !isTerminalRun(status);
  }
  if (!st.lastJobRunId) return false;
  return !["completed", "failed", "cancelled"].includes(st.lastJobRunStatus ?? "pending");
}

/** Starts the schedule's target for one instant; returns the run or job run it started. */
async function startTarget(
  deps: Deps,
  s: ScheduleRecord,
  scheduledFor: string,
): Promise<{ runId?: string; jobRunId?: string }> {
  const trigger = { type: "schedule" as const, scheduleName: s.name, scheduledFor };
  const idempotencyKey = `schedule:${s.name}:${scheduledFor}`;
  if ("workflow" in s.target) {
    const res = await triggerRun(deps, schedulePrincipal(s), {
      workflow: s.target.workflow,
      parameters: s.parameters ?? {},
      idempotencyKey,
      trigger,
    });
    return { runId: res.runId };
  }
  const res = await startJobRunFor(deps, {
    orgId: s.orgId,
    job: s.target.job,
    parameters: s.parameters ?? {},
    trigger,
    createdBy: `schedule:${s.name}`,
    idempotencyKey,
  });
  return { jobRunId: res.jobRunId };
}

async function startAndRecord(deps: Deps, s: ScheduleRecord, scheduledFor: string): Promise<FireOutcome> {
  try {
    const started = await startTarget(deps, s, scheduledFor);
    await updateState(deps, s.orgId, s.name, (st) => ({
      lastFiredFor: scheduledFor,
      lastRunId: started.runId ?? st.lastRunId,
      lastJobRunId: started.jobRunId ?? st.lastJobRunId,
      lastJobRunStatus: started.jobRunId ? "pending" : st.lastJobRunStatus,
      lastError: null,
    }));
    return "started";
  } catch (err) {
    // A target that cannot start (workflow deleted, parameters no longer valid) is recorded on the schedule; the
    // scheduler must not retry it forever.
    if (!(err instanceof ValidationError || err instanceof NotFoundError)) throw err;
    await updateState(deps, s.orgId, s.name, () => ({
      lastError: { at: nowIso(deps.clock), scheduledFor, message: err.message },
    }));
    return "failed";
  }
}

/**
 * Fires a schedule for one instant (the trigger handler, in the cloud and embedded): at most once per instant,
 * within the catch-up window, and as the overlap policy says.
 */
export async function fireSchedule(deps: Deps, firing: ScheduleFiring): Promise<FireOutcome> {
  const s = await deps.repos.schedules.get(firing.orgId, firing.name);
  if (!s) return "missing";
  if (!s.enabled) return "disabled";
  if (await targetArchived(deps, s)) {
    // The target was archived: the schedule stops firing, and says why on its record.
    await updateState(deps, s.orgId, s.name, () => ({
      lastSkippedFor: firing.scheduledFor,
      lastError: { at: nowIso(deps.clock), scheduledFor: firing.scheduledFor, message: archivedMessage(s) },
    }));
    return "archived";
  }
  const atMs = parseIsoMicro(firing.scheduledFor);
  if (!Number.isFinite(atMs)) throw new ValidationError(`scheduledFor '${firing.scheduledFor}' is not a timestamp`);
  const scheduledFor = isoMicro(Math.round(atMs / 1000) * 1000);
  // The outer bound on lateness. Which instants the grace may cover is the scheduler's call: EventBridge Scheduler
  // only ever invokes for instants it was up for, and the embedded scheduler hands over an instant missed while the
  // service was down only when it lies within the catch-up window.
  const windowSeconds = Math.max(s.catchupWindowSeconds, triggersOf(deps).options.scheduleGraceSeconds);
  if (deps.clock.nowMs() - atMs > windowSeconds * 1000) return "missed";
  const claimed = await deps.repos.schedules.claimFiring(s.orgId, s.name, {
    scheduledFor,
    claimedAt: nowIso(deps.clock),
    expiresAt: Math.floor(deps.clock.nowMs() / 1000) + FIRE_CLAIM_TTL_SECONDS,
  });
  if (!claimed) return "duplicate";
  if (s.overlap === "allow") return startAndRecord(deps, s, scheduledFor);
  const state = await getState(deps, s.orgId, s.name);
  if (!(await lastStillGoing(deps, s, state))) return startAndRecord(deps, s, scheduledFor);
  if (s.overlap === "skip") {
    await updateState(deps, s.orgId, s.name, () => ({ lastSkippedFor: scheduledFor }));
    return "skipped";
  }
  // buffer_one: keep one firing waiting; later ones while it waits are dropped.
  const buffered = await updateState(deps, s.orgId, s.name, (st) => (st.buffered ? null : { buffered: scheduledFor }));
  if (!buffered) {
    await updateState(deps, s.orgId, s.name, () => ({ lastSkippedFor: scheduledFor }));
    return "dropped";
  }
  // The run may have ended between the check and the write, with its listener seeing nothing buffered yet.
  await drainBuffered(deps, s.orgId, s.name);
  return "buffered";
}

const archivedMessage = (s: ScheduleRecord) =>
  `the target ${"workflow" in s.target ? `workflow '${s.target.workflow}'` : `job '${s.target.job}'`} is archived; the schedule does not fire until it is PUT again`;

/** Starts a buffered firing once the schedule's last run has ended; no-op otherwise. */
export async function drainBuffered(deps: Deps, orgId: string, name: string): Promise<boolean> {
  const s = await deps.repos.schedules.get(orgId, name);
  if (!s) return false;
  const state = await getState(deps, orgId, name);
  if (!state.buffered || (await lastStillGoing(deps, s, state))) return false;
  const scheduledFor = state.buffered;
  // Taking the buffered instant is the lock: only the writer that clears it starts the run.
  const taken = await updateState(deps, orgId, name, (st) =>
    st.buffered === scheduledFor ? { buffered: null } : null,
  );
  if (!taken) return false;
  if (s.enabled) await startAndRecord(deps, s, scheduledFor);
  return true;
}

/** Run listener: when a scheduled run ends, its schedule may start a buffered firing. */
export async function onScheduledRunChange(deps: Deps, run: RunRecord, _from: RunStatus | null): Promise<void> {
  if (run.trigger.type !== "schedule" || !isTerminalRun(run.status)) return;
  const name = run.trigger.scheduleName;
  if (typeof name === "string") await drainBuffered(deps, run.orgId, name);
}

/** Job-run listener: tracks the status of a schedule's job runs, and drains a buffered firing when one ends. */
export async function onScheduledJobRunChange(deps: Deps, jobRun: JobRunLike): Promise<void> {
  const trigger = jobRun.trigger as { type?: string; scheduleName?: unknown } | undefined;
  if (trigger?.type !== "schedule" || typeof trigger.scheduleName !== "string" || typeof jobRun.orgId !== "string")
    return;
  const orgId = jobRun.orgId;
  const name = trigger.scheduleName;
  await updateState(deps, orgId, name, (st) =>
    st.lastJobRunId === jobRun.jobRunId ? { lastJobRunStatus: jobRun.status } : null,
  );
  if (["completed", "failed", "cancelled"].includes(jobRun.status)) await drainBuffered(deps, orgId, name);
}
