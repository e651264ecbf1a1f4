// Request and response schemas of the job and job-run routes.

import { z } from "zod";
import { RUN_STATUSES } from "../../../shared/domain/records.ts";
import {
  JOB_RUN_STATUSES,
  JobBodySchema,
  JobRunBodySchema,
  JobRunCancelBodySchema,
  JobRunQuerySchema,
} from "../../../shared/jobs/job-records.ts";
import type { createJobRun, getJobRun, listJobRuns } from "../../../shared/jobs/job-runs.ts";
import type { jobView, listJobs, putJob, showJob } from "../../../shared/jobs/jobs.ts";
import { Trigger, WorkflowRef } from "./run-schemas.ts";
import { answers, iso, named, type Out, page } from "./schema-kit.ts";

export const JobBody = named(
  "JobRequest",
  JobBodySchema.extend({ name: z.string().optional().describe("optional; must equal the name in the path") }),
);
export const JobRunBody = named("JobRunRequest", JobRunBodySchema);
export const JobRunCancelBody = named("JobRunCancelRequest", JobRunCancelBodySchema);
export const JobRunQuery = JobRunQuerySchema.omit({ limit: true, cursor: true });

export const Job = answers<ReturnType<typeof jobView>>()(
  "Job",
  z.object({
    name: z.string(),
    description: z.string().nullable(),
    workflowExecutionOrder: z.array(z.string()),
    parameters: z.record(z.string(), z.record(z.string(), z.unknown())),
    createdAt: iso(),
    createdBy: z.string(),
    updatedAt: iso(),
    updatedBy: z.string(),
  }),
);
export const JobPut = answers<Out<typeof putJob>["body"]>()("Job", Job);
const ArchivedJob = named(
  "ArchivedJob",
  Job.extend({ archived: z.boolean().describe("whether the job is archived (DELETE archives it, PUT restores it)") }),
);
export const JobShown = answers<Out<typeof showJob>>()("ArchivedJob", ArchivedJob);
export const JobList = answers<Out<typeof listJobs>>()("JobList", page(ArchivedJob));
const jobRunStatus = z.enum(JOB_RUN_STATUSES);
export const JobRunRef = answers<Out<typeof createJobRun>>()(
  "JobRunStatusRef",
  z.object({ jobRunId: z.string(), status: jobRunStatus }),
);
export const JobRun = answers<Out<typeof getJobRun>>()(
  "JobRun",
  z
    .object({
      jobRunId: z.string(),
      orgId: z.string(),
      job: z.string(),
      status: jobRunStatus,
      jobConfigJsonSnapshot: z
        .object({
          name: z.string(),
          description: z.string().nullable(),
          workflowExecutionOrder: z.array(z.string()),
          parameters: z.record(z.string(), z.record(z.string(), z.unknown())),
          workflows: z.array(WorkflowRef).describe("the version each workflow resolved to at creation, in order"),
        })
        .describe("what the job run executes, frozen at creation"),
      workflowRuns: z.array(
        z.object({
          workflow: z.string(),
          runId: z.string().nullable(),
          status: z
            .enum([...RUN_STATUSES, "not_started"])
            .describe("a run status, or `not_started` (runId null) for a workflow the job run halted before"),
        }),
      ),
      trigger: Trigger,
      createdBy: z.string(),
      createdAt: iso(),
      startedAt: iso().nullable(),
      updatedAt: iso(),
      completedAt: iso().nullable(),
      error: z.object({ code: z.string(), message: z.string() }).nullable(),
    })
    .describe("beyond the contract: orgId, trigger, startedAt, error; workflowRuns may hold `not_started` entries"),
);
export const JobRunView = JobRun;
export const JobRunList = answers<Out<typeof listJobRuns>>()("JobRunList", page(JobRun));
