import type { Deps } from "../deps.ts";
import type { Page } from "../domain/records.ts";
import { ConflictError } from "../errors.ts";
import type { PageRequest } from "../ports/run-store.ts";
import type { JobRecord, JobRunRecord, JobRunStatus } from "./job-records.ts";

// Keys of the jobs area in the single table, every one scoped by org:
//   job        pk ORG#{org}#JOB#{name}  sk JOB     gsi1 ORG#{org}#JOBS / name
//   job run    pk ORG#{org}#JR#{id}     sk JOBRUN  gsi1 ORG#{org}#JOBRUNS / id (all, newest first)
//                                                  gsi2 ORG#{org}#JOB#{name}#RUNS / id (by job)
//                                                  gsi3 ORG#{org}#JOBRUNS#{status} / id (by status)
//   its wait   pk ORG#{org}#JR#{id}     sk WAIT    the task token of the execution's current wait
// (Workflow runs of a job run carry gsi3 ORG#{org}#JR#{id}#RUNS, written by the run store.)
const jobPk = (orgId: string, name: string) => `ORG#${orgId}#JOB#${name}`;
const jobRunPk = (orgId: string, jobRunId: string) => `ORG#${orgId}#JR#${jobRunId}`;
const JOB_SK = "JOB";
const JOB_RUN_SK = "JOBRUN";
const WAIT_SK = "WAIT";

type Store = Deps["store"];

/** Reads a job definition. */
export const getJobItem = (store: Store, orgId: string, name: string): Promise<JobRecord | null> =>
  store.getItem<JobRecord>(jobPk(orgId, name), JOB_SK);

/** Writes a job definition; `ifAbsent` makes it a create (ConflictError when it exists). */
export async function putJobItem(store: Store, job: JobRecord, ifAbsent: boolean): Promise<void> {
  await store.putItem(
    { pk: jobPk(job.orgId, job.name), sk: JOB_SK, gsi1pk: `ORG#${job.orgId}#JOBS`, gsi1sk: job.name, ...job },
    { ifAbsent },
  );
}

/** A page of the org's jobs, by name. */
export const listJobItems = (store: Store, orgId: string, page: PageRequest): Promise<Page<JobRecord>> =>
  store.queryIndex<JobRecord>("gsi1", `ORG#${orgId}#JOBS`, page, false);

function jobRunItem(jr: JobRunRecord): Record<string, unknown> {
  return {
    pk: jobRunPk(jr.orgId, jr.jobRunId),
    sk: JOB_RUN_SK,
    gsi1pk: `ORG#${jr.orgId}#JOBRUNS`,
    gsi1sk: jr.jobRunId,
    gsi2pk: `ORG#${jr.orgId}#JOB#${jr.job}#RUNS`,
    gsi2sk: jr.jobRunId,
    gsi3pk: `ORG#${jr.orgId}#JOBRUNS#${jr.status}`,
    gsi3sk: jr.jobRunId,
    ...jr,
  };
}

/** Creates a job run item (rev 0). */
export async function createJobRunItem(store: Store, jr: JobRunRecord): Promise<void> {
  await store.putItem(jobRunItem({ ...jr, rev: 0 }), { ifAbsent: true });
}

/** Reads a job run. */
export const getJobRunItem = (store: Store, orgId: string, jobRunId: string): Promise<JobRunRecord | null> =>
  store.getItem<JobRunRecord>(jobRunPk(orgId, jobRunId), JOB_RUN_SK);

/**
 * Writes the next version of a job run, conditional on the revision it was built from: two writers (the
 * state machine, a run listener, a cancel) can never overwrite each other's change. False when another won.
 */
export async function saveJobRunItem(store: Store, next: JobRunRecord, readRev: number): Promise<boolean> {
  try {
    await store.putItem(jobRunItem({ ...next, rev: readRev + 1 }), {
      condition: "rev = :rev",
      values: { ":rev": readRev },
    });
    next.rev = readRev + 1;
    return true;
  } catch (err) {
    if (err instanceof ConflictError) return false;
    throw err;
  }
}

/** A page of job runs, newest first: all of the org's, one job's, or those in one status. */
export function queryJobRunItems(
  store: Store,
  orgId: string,
  by: { job?: string; status?: JobRunStatus },
  page: PageRequest,
): Promise<Page<JobRunRecord>> {
  if (by.job) return store.queryIndex<JobRunRecord>("gsi2", `ORG#${orgId}#JOB#${by.job}#RUNS`, page, true);
  if (by.status) return store.queryIndex<JobRunRecord>("gsi3", `ORG#${orgId}#JOBRUNS#${by.status}`, page, true);
  return store.queryIndex<JobRunRecord>("gsi1", `ORG#${orgId}#JOBRUNS`, page, true);
}

export interface JobRunWait {
  token: string;
  /** The workflow run the execution waits for. */
  runId: string;
  at: string;
}

/** Stores the task token of the job run's execution, waiting for `runId` to end. */
export async function putJobRunWait(store: Store, orgId: string, jobRunId: string, wait: JobRunWait): Promise<void> {
  await store.putItem({ pk: jobRunPk(orgId, jobRunId), sk: WAIT_SK, ...wait });
}

/** The job run's stored task token, if any. */
export const getJobRunWait = (store: Store, orgId: string, jobRunId: string): Promise<JobRunWait | null> =>
  store.getItem<JobRunWait>(jobRunPk(orgId, jobRunId), WAIT_SK);

/** Forgets the job run's task token (when it ends). */
export async function deleteJobRunWait(store: Store, orgId: string, jobRunId: string): Promise<void> {
  await store.deleteItem(jobRunPk(orgId, jobRunId), WAIT_SK);
}
