import type { Deps } from "../deps.ts";
import type { Trigger } from "../domain/records.ts";
import type { JobRunListener, JobRunStatus } from "./job-records.ts";

/** Starts the state-machine execution of each job run (Step Functions, or the local interpreter). */
export interface JobRunOrchestrator {
  /** Starts the execution named after the job run; starting it twice is harmless. */
  startJobRun(orgId: string, jobRunId: string): Promise<void>;
  /** Whether the job run's execution is still going (known embedded only; undefined in the cloud). */
  isRunning?(jobRunId: string): boolean;
}

/** The jobs area's services, at `deps.areas.jobs`. */
export interface JobsArea {
  /** Called after every job-run status change with (jobRun, from); errors are logged, never thrown. */
  listeners: JobRunListener[];
  orchestrator: JobRunOrchestrator;
  /** Starts a job run for another area (a schedule whose target is a job), as `createdBy`. */
  startJobRun(req: StartJobRunRequest): Promise<{ jobRunId: string; status: JobRunStatus }>;
}

/** What another area asks for when it starts a job run; `parameters` are per workflow: {"wf-a": {...}}. */
export interface StartJobRunRequest {
  orgId: string;
  job: string;
  parameters?: Record<string, unknown>;
  trigger: Trigger;
  createdBy: string;
  idempotencyKey?: string;
}

/** The jobs area of these deps; throws when the runtime did not wire it. */
export function jobsArea(deps: Deps): JobsArea {
  const area = deps.areas.jobs as JobsArea | undefined;
  if (!area) throw new Error("the jobs area is not wired in this runtime");
  return area;
}
