import type { Clock } from "../domain/clock.ts";
import { nowIso } from "../domain/clock.ts";
import { newId } from "../domain/ids.ts";
import { RUN_STATUSES, type RunRecord, type RunStatus } from "../domain/records.ts";
import { runSummary } from "../runs/runs.ts";
import type { JobRunLike, StepwiseEvent } from "./area.ts";

/** Statuses of job runs, as the contract lists them. */
export const JOB_RUN_STATUSES = ["pending", "in_progress", "completed", "failed", "cancelled"] as const;

/** Every event type: `run.<status>` and `job_run.<status>`. */
export const EVENT_TYPES: readonly string[] = [
  ...RUN_STATUSES.map((s) => `run.${s}`),
  ...JOB_RUN_STATUSES.map((s) => `job_run.${s}`),
];

/** True when a subscription pattern names a known event: an exact type, `*`, `run.*` or `job_run.*`. */
export const isEventPattern = (p: string): boolean =>
  p === "*" || p === "run.*" || p === "job_run.*" || EVENT_TYPES.includes(p);

/** True when any of a subscription's patterns matches the event type. */
export function matchesEvent(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === "*" || p === type || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))));
}

/** The event of a run status change. */
export function runEvent(clock: Clock, run: RunRecord, from: RunStatus | null): StepwiseEvent {
  return {
    id: newId("evt", clock.nowMs()),
    type: `run.${run.status}`,
    occurredAt: nowIso(clock),
    // The run as lists show it, plus the change.
    data: { orgId: run.orgId, ...runSummary(run), previousStatus: from },
  };
}

/** The event of a job-run status change (null when the job run names no org). */
export function jobRunEvent(clock: Clock, jobRun: JobRunLike, from: string | null): StepwiseEvent | null {
  if (typeof jobRun.orgId !== "string") return null;
  const pick = <K extends keyof JobRunLike>(k: K) => jobRun[k] ?? null;
  return {
    id: newId("evt", clock.nowMs()),
    type: `job_run.${jobRun.status}`,
    occurredAt: nowIso(clock),
    data: {
      orgId: jobRun.orgId,
      jobRunId: jobRun.jobRunId,
      job: jobRun.job,
      status: jobRun.status,
      previousStatus: from,
      workflowRuns: pick("workflowRuns"),
      trigger: pick("trigger"),
      createdBy: pick("createdBy"),
      createdAt: pick("createdAt"),
      updatedAt: pick("updatedAt"),
      completedAt: pick("completedAt"),
      error: pick("error"),
    },
  };
}
