import type { ExportJob, ExportWorker } from "../ports/export-worker.ts";
import type { Logger } from "../ports/logger.ts";

/**
 * The embedded export worker: the build runs in this process, after the API call that started it has answered.
 * `build` is the worker's use case (the embedded server wraps it so that stopping waits for builds in flight).
 */
export function inProcessExportWorker(build: (job: ExportJob) => Promise<unknown>, logger: Logger): ExportWorker {
  return {
    async start(job) {
      // Not awaited: the caller answers 202 and polls; the build records its own outcome.
      build(job).catch((err: unknown) =>
        logger.error("export build failed", { runId: job.runId, exportId: job.exportId, error: String(err) }),
      );
    },
  };
}
