import { z } from "zod";
import { isoMicro } from "../domain/clock.ts";
import type { ScheduleRegistration } from "../ports/triggers.ts";
import { nextInstant, parseCron } from "./cron.ts";

// A schedule's stored shapes and its views: the definition (ScheduleRecord) and what it last did (ScheduleState).

export const SCHEDULE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const OVERLAP_POLICIES = ["skip", "allow", "buffer_one"] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

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

export const EMPTY_STATE: ScheduleState = {
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

export const registration = (s: ScheduleRecord): ScheduleRegistration => ({
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
