import type { Page } from "../domain/records.ts";
import type { JobRecord, JobRunRecord, JobRunStatus } from "../jobs/job-records.ts";
import type { PageRequest } from "./run-store.ts";

/** The task token of a job run's execution, waiting for one workflow run to end. */
export interface JobRunWait {
  token: string;
  /** The workflow run the execution waits for. */
  runId: string;
  at: string;
}

/**
 * Jobs, their job runs and the job runs' waits. Conditional writes follow the optimistic-update contract
 * (shared/kernel/optimistic-update.ts): when another writer won they throw StaleStateError.
 */
export interface JobRepository {
  getJob(orgId: string, name: string): Promise<JobRecord | null>;
  /** Writes a job; `create` makes it conditional on there being none (StaleStateError when there is). */
  putJob(job: JobRecord, opts: { create: boolean }): Promise<void>;
  /** The org's jobs, by name. */
  listJobs(orgId: string, page: PageRequest): Promise<Page<JobRecord>>;

  /** Creates a job run (stored at revision 0). */
  createJobRun(jobRun: JobRunRecord): Promise<void>;
  getJobRun(orgId: string, jobRunId: string): Promise<JobRunRecord | null>;
  /**
   * Writes the next version of a job run, conditional on the revision it was built from (`readRev`): two writers
   * (the state machine, a run listener, a cancel) never overwrite each other's change. Sets `next.rev` when written.
   */
  saveJobRun(next: JobRunRecord, readRev: number): Promise<void>;
  /** Job runs newest first: all of the org's, one job's, or those in one status. */
  listJobRuns(
    orgId: string,
    by: { job?: string; status?: JobRunStatus },
    page: PageRequest,
  ): Promise<Page<JobRunRecord>>;
  /** Job runs not yet ended, across orgs (the embedded mode resumes their executions at start-up). */
  listActiveJobRuns(): Promise<Array<{ orgId: string; jobRunId: string }>>;

  putWait(orgId: string, jobRunId: string, wait: JobRunWait): Promise<void>;
  getWait(orgId: string, jobRunId: string): Promise<JobRunWait | null>;
  deleteWait(orgId: string, jobRunId: string): Promise<void>;
}
