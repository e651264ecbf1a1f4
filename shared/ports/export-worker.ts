/** One evidence-bundle export to build: which run, and the export's id (its status and bundle are keyed by it). */
export interface ExportJob {
  orgId: string;
  runId: string;
  exportId: string;
}

/**
 * Builds evidence bundles away from the API call that asked for them: in the cloud a Lambda function invoked
 * asynchronously (15 minutes, streaming the archive to S3), embedded a task in the same process. `start` returns
 * once the build is handed over; the build records its own progress and outcome in the export's status.
 */
export interface ExportWorker {
  start(job: ExportJob): Promise<void>;
}
