import { z } from "zod";
import type { RunStatus, Trigger } from "../domain/records.ts";
import { ConflictError } from "../errors.ts";

/** Job names follow workflow names: lowercase letters, digits and '-'. */
export const JOB_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const workflowName = z
  .string()
  .regex(JOB_NAME_PATTERN, "must be a workflow name (1-63 lowercase letters, digits, '-')");

/** Parameters per workflow of a job: {"wf-a": {"day": "mon"}}. */
export const JobParametersSchema = z.record(workflowName, z.record(z.string(), z.unknown()));

/** The body of `PUT /api/jobs/{name}`. */
export const JobBodySchema = z
  .object({
    description: z.string().max(2000).optional(),
    workflowExecutionOrder: z
      .array(workflowName)
      .min(1, "workflowExecutionOrder must name at least one workflow")
      .max(100, "a job runs at most 100 workflows"),
    parameters: JobParametersSchema.optional(),
  })
  .strict();
export type JobBody = z.infer<typeof JobBodySchema>;

/** The body of `POST /api/jobs/{name}/runs`. */
export const JobRunBodySchema = z.object({ parameters: JobParametersSchema.optional() }).strict();

/** The body of `POST /api/job-runs/{jobRunId}/cancel`. */
export const JobRunCancelBodySchema = z.object({ reason: z.string().max(1000).optional() }).strict();

export const JOB_RUN_STATUSES = ["pending", "in_progress", "completed", "failed", "cancelled"] as const;
export type JobRunStatus = (typeof JOB_RUN_STATUSES)[number];
export const isTerminalJobRun = (s: JobRunStatus): boolean => s === "completed" || s === "failed" || s === "cancelled";

/** `GET /api/job-runs` query. */
export const JobRunQuerySchema = z
  .object({
    job: z.string().optional(),
    status: z.enum(JOB_RUN_STATUSES).optional(),
    limit: z.string().optional(),
    cursor: z.string().optional(),
  })
  .strict();

// The job-run lifecycle as a pure table, like the run's: every status change goes through it.
const JOB_RUN_TRANSITIONS: Record<JobRunStatus, readonly JobRunStatus[]> = {
  pending: ["in_progress", "failed", "cancelled"],
  in_progress: ["completed", "failed", "cancelled"],
  completed: [],
  failed: [],
  cancelled: [],
};

/** Throws ConflictError unless a job run may move from `from` to `to`. */
export function assertJobRunTransition(from: JobRunStatus, to: JobRunStatus): void {
  if (!JOB_RUN_TRANSITIONS[from].includes(to)) throw new ConflictError(`job run cannot go from ${from} to ${to}`);
}

export interface JobRecord {
  orgId: string;
  name: string;
  description: string | null;
  workflowExecutionOrder: string[];
  parameters: Record<string, Record<string, unknown>>;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** What a job run executes, frozen when it is created. */
export interface JobConfigSnapshot {
  name: string;
  description: string | null;
  workflowExecutionOrder: string[];
  /** The job's parameters merged with the run's, per workflow. */
  parameters: Record<string, Record<string, unknown>>;
  /** The version each workflow of the order resolved to at creation, in execution order. */
  workflows: Array<{ name: string; version: number; definitionHash: string }>;
}

/** A workflow of the job run: a started run (runId set) or one the job run halted before (`not_started`). */
export interface JobWorkflowRun {
  workflow: string;
  runId: string | null;
  status: RunStatus | "not_started";
}

export interface JobRunRecord {
  jobRunId: string;
  orgId: string;
  job: string;
  status: JobRunStatus;
  jobConfigJsonSnapshot: JobConfigSnapshot;
  workflowRuns: JobWorkflowRun[];
  trigger: Trigger;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  completedAt: string | null;
  error: { code: string; message: string } | null;
  cancelRequest: { by: string; reason: string | null; at: string } | null;
  /** Optimistic-concurrency revision: every write is conditional on the one it read. */
  rev: number;
}

export type JobRunListener = (jobRun: JobRunRecord, from: JobRunStatus | null) => Promise<void>;

/** Statuses of a child run that halt the job run, and what the job run becomes. */
export const HALTING_RUN_STATUSES: Partial<Record<RunStatus, JobRunStatus>> = {
  failed: "failed",
  cancelled: "cancelled",
};
