import { archiveMarker } from "../archive/archive.ts";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import type { Principal } from "../domain/records.ts";
import { resolveParameters } from "../domain/workflow.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { PageRequest } from "../ports/run-store.ts";
import { triggersOf } from "./area.ts";
import { parseCron } from "./cron.ts";
import {
  registration,
  SCHEDULE_NAME_PATTERN,
  type ScheduleBody,
  type ScheduleRecord,
  scheduleView,
} from "./schedule-records.ts";

// The schedules' API: create or replace, read, list, delete. Firing is in schedule-firing.ts.

export {
  type FireOutcome,
  OVERLAP_POLICIES,
  type OverlapPolicy,
  SCHEDULE_NAME_PATTERN,
  type ScheduleBody,
  ScheduleBodySchema,
} from "./schedule-records.ts";

function checkName(name: string): void {
  if (!SCHEDULE_NAME_PATTERN.test(name))
    throw new ValidationError("a schedule name is 1-100 letters, digits, '.', '_' or '-'", [
      { path: "name", message: "invalid schedule name" },
    ]);
}

/** Creates or replaces a schedule and registers it with the scheduler; `created` tells 201 from 200. */
export async function putSchedule(deps: Deps, p: Principal, name: string, body: ScheduleBody) {
  checkName(name);
  parseCron(body.cron, body.timezone);
  if ("workflow" in body.target) {
    const wf = await deps.repos.workflows.get(p.orgId, body.target.workflow);
    if (!wf)
      throw new ValidationError(`target workflow '${body.target.workflow}' not found`, [
        { path: "target.workflow", message: "no such workflow" },
      ]);
    // Checked now so that a typo fails here, not silently at 9:00; checked again at every firing.
    resolveParameters(wf.definition, body.parameters);
  } else if (!(await deps.repos.jobs.getJob(p.orgId, body.target.job))) {
    throw new ValidationError(`target job '${body.target.job}' not found`, [
      { path: "target.job", message: "no such job" },
    ]);
  }
  const existing = await deps.repos.schedules.get(p.orgId, name);
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
  await deps.repos.schedules.put(record);
  return { created: !existing, body: scheduleView(record, deps.clock.nowMs()) };
}

/** One schedule with what it last did. */
export async function readSchedule(deps: Deps, p: Principal, name: string) {
  const s = await deps.repos.schedules.get(p.orgId, name);
  if (!s) throw new NotFoundError(`schedule '${name}' not found`);
  const view = scheduleView(s, deps.clock.nowMs(), await deps.repos.schedules.getState(p.orgId, name));
  return { ...view, targetArchived: await targetArchived(deps, s) };
}

/** The org's schedules, newest first (by creation; an update keeps a schedule's place). */
export async function listSchedules(deps: Deps, p: Principal, page: PageRequest) {
  const res = await deps.repos.schedules.list(p.orgId, page);
  const now = deps.clock.nowMs();
  const items = [];
  for (const s of res.items) items.push({ ...scheduleView(s, now), targetArchived: await targetArchived(deps, s) });
  return { items, nextCursor: res.nextCursor };
}

/** Deletes a schedule: unregisters it, then removes its definition, state and fire claims. */
export async function deleteSchedule(deps: Deps, p: Principal, name: string): Promise<void> {
  const s = await deps.repos.schedules.get(p.orgId, name);
  if (!s) throw new NotFoundError(`schedule '${name}' not found`);
  await triggersOf(deps).scheduler.remove(p.orgId, name);
  await deps.repos.schedules.delete(p.orgId, name);
}

/** Whether the schedule's target workflow or job is archived (then it does not fire). */
export async function targetArchived(deps: Deps, s: ScheduleRecord): Promise<boolean> {
  const [kind, name] =
    "workflow" in s.target ? (["workflow", s.target.workflow] as const) : (["job", s.target.job] as const);
  return (await archiveMarker(deps, s.orgId, kind, name)) !== null;
}
