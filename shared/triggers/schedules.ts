import { z } from "zod";
import { archiveMarker } from "../archive/archive.ts";
import type { Deps } from "../deps.ts";
import { isoMicro, nowIso, parseIsoMicro } from "../domain/clock.ts";
import { isTerminalRun, type Principal, type RunRecord, type RunStatus } from "../domain/records.ts";
import { listSortKey } from "../domain/sort-keys.ts";
import { resolveParameters } from "../domain/workflow.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { startJobRunFor } from "../jobs/job-runs.ts";
import { getJobItem } from "../jobs/job-store.ts";
import type { PageRequest } from "../ports/run-store.ts";
import { triggerRun } from "../use-cases/runs.ts";
import type { JobRunLike, ScheduleFiring, ScheduleRegistration } from "./area.ts";
import { triggersOf } from "./area.ts";
import { nextInstant, parseCron } from "./cron.ts";
import { fireSk, SCHEDULE_SK, SCHEDULE_STATE_SK, schedulePk, schedulesIndexPk } from "./keys.ts";

export const SCHEDULE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const OVERLAP_POLICIES = ["skip", "allow", "buffer_one"] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
/** Fire claims are kept a week (DynamoDB TTL); a retried EventBridge invocation arrives within hours at most. */
const FIRE_CLAIM_TTL_SECONDS = 7 * 86400;

/** The body of `PUT /api/schedules/{name}`. */
export const ScheduleBodySchema = z
  .object({
    target: z.union([
      z.object({ workflow: z.string().min(1).max(100) }).strict(),
      z.object({ job: z.string().min(1).max(100) }).strict(),
    ]),
    cron: z.string().min(1).max(200),
    timezone: z.string().min(1).max(100).default("UTC"),
    parameters: z.record(z.string(), z.unknown()).optional(),
    enabled: z.boolean().default(true),
    overlap: z.enum(OVERLAP_POLICIES).default("skip"),
    catchupWindowSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86400)
      .default(0),
  })
  .strict();
export type ScheduleBody = z.infer<typeof ScheduleBodySchema>;

export interface ScheduleRecord extends ScheduleBody {
  orgId: string;
  name: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** What a schedule last did; kept apart from its definition so that a PUT never loses it. */
export interface ScheduleState {
  stateRev: number;
  lastFiredFor: string | null;
  lastRunId: string | null;
  lastJobRunId: string | null;
  lastJobRunStatus: string | null;
  /** buffer_one: the instant waiting for the current run to end. */
  buffered: string | null;
  lastSkippedFor: string | null;
  lastError: { at: string; scheduledFor: string; message: string } | null;
}

const EMPTY_STATE: ScheduleState = {
  stateRev: 0,
  lastFiredFor: null,
  lastRunId: null,
  lastJobRunId: null,
  lastJobRunStatus: null,
  buffered: null,
  lastSkippedFor: null,
  lastError: null,
};

export type FireOutcome =
  | "started"
  | "skipped"
  | "buffered"
  | "dropped"
  | "duplicate"
  | "missed"
  | "disabled"
  | "missing"
  | "archived"
  | "failed";

function checkName(name: string): void {
  if (!SCHEDULE_NAME_PATTERN.test(name))
    throw new ValidationError("a schedule name is 1-100 letters, digits, '.', '_' or '-'", [
      { path: "name", message: "invalid schedule name" },
    ]);
}

const registration = (s: ScheduleRecord): ScheduleRegistration => ({
  orgId: s.orgId,
  name: s.name,
  cron: s.cron,
  timezone: s.timezone,
  enabled: s.enabled,
  catchupWindowSeconds: s.catchupWindowSeconds,
});

/** The next instant the schedule fires, ISO; null when disabled. */
export function nextRunAt(s: Pick<ScheduleRecord, "cron" | "timezone" | "enabled">, nowMs: number): string | null {
  if (!s.enabled) return null;
  const next = nextInstant(parseCron(s.cron, s.timezone), nowMs);
  return next === null ? null : isoMicro(next);
}

/** A schedule as the API shows it. */
export function scheduleView(s: ScheduleRecord, nowMs: number, state?: ScheduleState | null) {
  const view: Record<string, unknown> = {
    name: s.name,
    target: s.target,
    cron: s.cron,
    timezone: s.timezone,
    parameters: s.parameters ?? {},
    enabled: s.enabled,
    overlap: s.overlap,
    catchupWindowSeconds: s.catchupWindowSeconds,
    nextRunAt: nextRunAt(s, nowMs),
    createdAt: s.createdAt,
    createdBy: s.createdBy,
    updatedAt: s.updatedAt,
    updatedBy: s.updatedBy,
  };
  if (state !== undefined) {
    const st = state ?? EMPTY_STATE;
    view.lastFiredFor = st.lastFiredFor;
    view.lastRunId = st.lastRunId;
    view.lastJobRunId = st.lastJobRunId;
    view.buffered = st.buffered;
    view.lastSkippedFor = st.lastSkippedFor;
    view.lastError = st.lastError;
  }
  return view;
}

const getSchedule = (deps: Deps, orgId: string, name: string) =>
  deps.store.getItem<ScheduleRecord>(schedulePk(orgId, name), SCHEDULE_SK);

const getState = (deps: Deps, orgId: string, name: string) =>
  deps.store.getItem<ScheduleState>(schedulePk(orgId, name), SCHEDULE_STATE_SK);

/** Changes a schedule's state with an optimistic revision check, retrying when another writer won. */
async function updateState(
  deps: Deps,
  orgId: string,
  name: string,
  change: (s: ScheduleState) => Partial<ScheduleState> | null,
): Promise<ScheduleState | null> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = { ...EMPTY_STATE, ...(await getState(deps, orgId, name)) };
    const patch = change(current);
    if (!patch) return null;
    const next: ScheduleState = { ...current, ...patch, stateRev: current.stateRev + 1 };
    try {
      await deps.store.putItem(
        { pk: schedulePk(orgId, name), sk: SCHEDULE_STATE_SK, ...next },
        current.stateRev === 0
          ? { ifAbsent: true }
          : { condition: "stateRev = :rev", values: { ":rev": current.stateRev } },
      );
      return next;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new ConflictError(`schedule '${name}' kept changing`);
}

/** Creates or replaces a schedule and registers it with the scheduler; `created` tells 201 from 200. */
export async function putSchedule(deps: Deps, p: Principal, name: string, body: ScheduleBody) {
  checkName(name);
  parseCron(body.cron, body.timezone);
  if ("workflow" in body.target) {
    const wf = await deps.store.getWorkflow(p.orgId, body.target.workflow);
    if (!wf)
      throw new ValidationError(`target workflow '${body.target.workflow}' not found`, [
        { path: "target.workflow", message: "no such workflow" },
      ]);
    // Checked now so that a typo fails here, not silently at 9:00; checked again at every firing.
    resolveParameters(wf.definition, body.parameters);
  } else if (!(await getJobItem(deps.store, p.orgId, body.target.job))) {
    throw new ValidationError(`target job '${body.target.job}' not found`, [
      { path: "target.job", message: "no such job" },
    ]);
  }
  const existing = await getSchedule(deps, p.orgId, name);
  const at = nowIso(deps.clock);
  const record: ScheduleRecord = {
    ...body,
    parameters: body.parameters ?? {},
    orgId: p.orgId,
    name,
    createdAt: existing?.createdAt ?? at,
    createdBy: existing?.createdBy ?? p.userId,
    updatedAt: at,
    updatedBy: p.userId,
  };
  // The scheduler first: when it refuses, nothing is stored and the caller sees the error.
  await triggersOf(deps).scheduler.put(registration(record));
  await deps.store.putItem({
    pk: schedulePk(p.orgId, name),
    sk: SCHEDULE_SK,
    gsi1pk: schedulesIndexPk(p.orgId),
    gsi1sk: listSortKey(record.createdAt, name),
    ...record,
  });
  return { created: !existing, body: scheduleView(record, deps.clock.nowMs()) };
}

/** One schedule with what it last did. */
export async function readSchedule(deps: Deps, p: Principal, name: string) {
  const s = await getSchedule(deps, p.orgId, name);
  if (!s) throw new NotFoundError(`schedule '${name}' not found`);
  const view = scheduleView(s, deps.clock.nowMs(), await getState(deps, p.orgId, name));
  return { ...view, targetArchived: await targetArchived(deps, s) };
}

/** The org's schedules, newest first (by creation; an update keeps a schedule's place). */
export async function listSchedules(deps: Deps, p: Principal, page: PageRequest) {
  const res = await deps.store.queryIndex<ScheduleRecord>("gsi1", schedulesIndexPk(p.orgId), page, true);
  const now = deps.clock.nowMs();
  const items = [];
  for (const s of res.items) items.push({ ...scheduleView(s, now), targetArchived: await targetArchived(deps, s) });
  return { items, nextCursor: res.nextCursor };
}

/** Deletes a schedule: unregisters it, then removes its definition, state and fire claims. */
export async function deleteSchedule(deps: Deps, p: Principal, name: string): Promise<void> {
  const s = await getSchedule(deps, p.orgId, name);
  if (!s) throw new NotFoundError(`schedule '${name}' not found`);
  await triggersOf(deps).scheduler.remove(p.orgId, name);
  const pk = schedulePk(p.orgId, name);
  let cursor: string | null = null;
  do {
    const page: { items: Array<{ sk?: string; scheduledFor?: string }>; nextCursor: string | null } =
      await deps.store.queryIndex(null, pk, { limit: 100, cursor }, false);
    for (const item of page.items) if (item.scheduledFor) await deps.store.deleteItem(pk, fireSk(item.scheduledFor));
    cursor = page.nextCursor;
  } while (cursor);
  await deps.store.deleteItem(pk, SCHEDULE_STATE_SK);
  await deps.store.deleteItem(pk, SCHEDULE_SK);
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
  const s = await getSchedule(deps, firing.orgId, firing.name);
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
  try {
    await deps.store.putItem(
      {
        pk: schedulePk(s.orgId, s.name),
        sk: fireSk(scheduledFor),
        scheduledFor,
        claimedAt: nowIso(deps.clock),
        expiresAt: Math.floor(deps.clock.nowMs() / 1000) + FIRE_CLAIM_TTL_SECONDS,
      },
      { ifAbsent: true },
    );
  } catch (err) {
    if (err instanceof ConflictError) return "duplicate";
    throw err;
  }
  if (s.overlap === "allow") return startAndRecord(deps, s, scheduledFor);
  const state = { ...EMPTY_STATE, ...(await getState(deps, s.orgId, s.name)) };
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

/** Whether the schedule's target workflow or job is archived (then it does not fire). */
async function targetArchived(deps: Deps, s: ScheduleRecord): Promise<boolean> {
  const [kind, name] =
    "workflow" in s.target ? (["workflow", s.target.workflow] as const) : (["job", s.target.job] as const);
  return (await archiveMarker(deps.store, s.orgId, kind, name)) !== null;
}

const archivedMessage = (s: ScheduleRecord) =>
  `the target ${"workflow" in s.target ? `workflow '${s.target.workflow}'` : `job '${s.target.job}'`} is archived; the schedule does not fire until it is PUT again`;

/** Starts a buffered firing once the schedule's last run has ended; no-op otherwise. */
export async function drainBuffered(deps: Deps, orgId: string, name: string): Promise<boolean> {
  const s = await getSchedule(deps, orgId, name);
  if (!s) return false;
  const state = await getState(deps, orgId, name);
  if (!state?.buffered || (await lastStillGoing(deps, s, { ...EMPTY_STATE, ...state }))) return false;
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
