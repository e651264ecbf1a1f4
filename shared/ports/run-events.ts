import type { RunRecord, RunStatus } from "../domain/records.ts";
import type { JobRunRecord, JobRunStatus } from "../jobs/job-records.ts";
import type { Logger } from "./logger.ts";

/** One subscriber of run events: jobs progress, notifications, secret clean-up. */
export interface RunEventSubscriber {
  /** Named in the log when it fails. */
  readonly name: string;
  /** After every run status change (`from` null for a new run). */
  onRunChange?(run: RunRecord, from: RunStatus | null): Promise<void>;
  /** After every job-run status change (`from` null for a new job run). */
  onJobRunChange?(jobRun: JobRunRecord, from: JobRunStatus | null): Promise<void>;
}

/**
 * The one publisher of run and job-run status changes. Its subscribers are listed once, in order, by the composition
 * root; each is awaited in turn, and a failing subscriber is logged, never thrown (it must not fail the run).
 */
export class RunEvents {
  constructor(
    private readonly subscribers: readonly RunEventSubscriber[],
    private readonly logger: Logger,
  ) {}

  /** Tells every subscriber that a run's status changed. */
  async runChanged(run: RunRecord, from: RunStatus | null): Promise<void> {
    for (const s of this.subscribers) {
      if (!s.onRunChange) continue;
      try {
        await s.onRunChange(run, from);
      } catch (err) {
        this.logger.error("run listener failed", {
          subscriber: s.name,
          runId: run.runId,
          error: (err as Error).message,
        });
      }
    }
  }

  /** Tells every subscriber that a job run's status changed. */
  async jobRunChanged(jobRun: JobRunRecord, from: JobRunStatus | null): Promise<void> {
    for (const s of this.subscribers) {
      if (!s.onJobRunChange) continue;
      try {
        await s.onJobRunChange(jobRun, from);
      } catch (err) {
        this.logger.error("job run listener failed", {
          subscriber: s.name,
          jobRunId: jobRun.jobRunId,
          error: (err as Error).message,
        });
      }
    }
  }
}
