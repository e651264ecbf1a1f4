import type { Page } from "../../domain/records.ts";
import type { JobRecord, JobRunRecord, JobRunStatus } from "../../jobs/job-records.ts";
import type { JobRepository, JobRunWait } from "../../ports/job-repository.ts";
import type { PageRequest } from "../../ports/run-store.ts";
import type { DynamoItems, Item } from "./dynamo-items.ts";
import {
  JOB_RUN_SK,
  JOB_RUN_WAIT_SK,
  JOB_SK,
  jobPk,
  jobRunPk,
  jobRunsByJobIndexPk,
  jobRunsByStatusIndexPk,
  jobRunsIndexPk,
  jobsIndexPk,
} from "./keys.ts";

const jobRunItem = (jr: JobRunRecord): Item => ({
  pk: jobRunPk(jr.orgId, jr.jobRunId),
  sk: JOB_RUN_SK,
  gsi1pk: jobRunsIndexPk(jr.orgId),
  gsi1sk: jr.jobRunId,
  gsi2pk: jobRunsByJobIndexPk(jr.orgId, jr.job),
  gsi2sk: jr.jobRunId,
  gsi3pk: jobRunsByStatusIndexPk(jr.orgId, jr.status),
  gsi3sk: jr.jobRunId,
  ...jr,
});

/** Jobs, job runs and their waits on the single table (keys: ./keys.ts). */
export class DynamoJobRepository implements JobRepository {
  constructor(private readonly items: DynamoItems) {}

  getJob(orgId: string, name: string): Promise<JobRecord | null> {
    return this.items.get<JobRecord>(jobPk(orgId, name), JOB_SK);
  }

  async putJob(job: JobRecord, opts: { create: boolean }): Promise<void> {
    const item = {
      pk: jobPk(job.orgId, job.name),
      sk: JOB_SK,
      gsi1pk: jobsIndexPk(job.orgId),
      gsi1sk: job.name,
      ...job,
    };
    await this.items.put(item, opts.create ? { condition: "attribute_not_exists(pk)" } : undefined);
  }

  listJobs(orgId: string, page: PageRequest): Promise<Page<JobRecord>> {
    return this.items.page<JobRecord>("gsi1", jobsIndexPk(orgId), page, false);
  }

  async createJobRun(jobRun: JobRunRecord): Promise<void> {
    await this.items.put(jobRunItem({ ...jobRun, rev: 0 }), { condition: "attribute_not_exists(pk)" });
  }

  getJobRun(orgId: string, jobRunId: string): Promise<JobRunRecord | null> {
    return this.items.get<JobRunRecord>(jobRunPk(orgId, jobRunId), JOB_RUN_SK);
  }

  async saveJobRun(next: JobRunRecord, readRev: number): Promise<void> {
    await this.items.put(jobRunItem({ ...next, rev: readRev + 1 }), {
      condition: "rev = :rev",
      values: { ":rev": readRev },
    });
    next.rev = readRev + 1;
  }

  listJobRuns(
    orgId: string,
    by: { job?: string; status?: JobRunStatus },
    page: PageRequest,
  ): Promise<Page<JobRunRecord>> {
    if (by.job) return this.items.page<JobRunRecord>("gsi2", jobRunsByJobIndexPk(orgId, by.job), page, true);
    if (by.status) return this.items.page<JobRunRecord>("gsi3", jobRunsByStatusIndexPk(orgId, by.status), page, true);
    return this.items.page<JobRunRecord>("gsi1", jobRunsIndexPk(orgId), page, true);
  }

  /** A scan, like the run store's listActiveRuns: no org-scoped query spans every org. */
  async listActiveJobRuns(): Promise<Array<{ orgId: string; jobRunId: string }>> {
    const found = await this.items.scan<Item>(
      "sk = :jr AND #s IN (:p, :i)",
      { "#s": "status" },
      { ":jr": JOB_RUN_SK, ":p": "pending", ":i": "in_progress" },
      "orgId, jobRunId",
    );
    return found.map((i) => ({ orgId: String(i.orgId), jobRunId: String(i.jobRunId) }));
  }

  async putWait(orgId: string, jobRunId: string, wait: JobRunWait): Promise<void> {
    await this.items.put({ pk: jobRunPk(orgId, jobRunId), sk: JOB_RUN_WAIT_SK, ...wait });
  }

  getWait(orgId: string, jobRunId: string): Promise<JobRunWait | null> {
    return this.items.get<JobRunWait>(jobRunPk(orgId, jobRunId), JOB_RUN_WAIT_SK);
  }

  async deleteWait(orgId: string, jobRunId: string): Promise<void> {
    await this.items.delete(jobRunPk(orgId, jobRunId), JOB_RUN_WAIT_SK);
  }
}
