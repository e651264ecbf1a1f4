/** Starts the state-machine execution of each job run (Step Functions, or the local interpreter). */
export interface JobRunOrchestrator {
  /** Starts the execution named after the job run; starting it twice is harmless. */
  startJobRun(orgId: string, jobRunId: string): Promise<void>;
  /** Whether the job run's execution is still going (known embedded only; undefined in the cloud). */
  isRunning?(jobRunId: string): boolean;
}
