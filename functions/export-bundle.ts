import { z } from "zod";
import { cloudServices } from "./cloud-services.ts";
import { keysOf } from "./telemetry.ts";

const services = cloudServices("exportBundle");

/** What the API's export worker sends (shared/adapters/lambda-export-worker.ts). */
const ExportJob = z.object({
  orgId: z.string().min(1),
  runId: z.string().min(1),
  exportId: z.string().regex(/^exp_[0-9A-HJKMNP-TV-Z]{26}$/),
});

/**
 * Lambda entry: builds one run's evidence bundle, streaming it to S3 as a multipart upload, and records the
 * export's outcome (invoked asynchronously by the API; up to 15 minutes).
 */
export const handler = services.telemetry.chain<unknown, unknown>(keysOf).handler(async (event) => {
  services.deps.meter.handlerCalls++;
  const status = await services.evidence.buildExport(ExportJob.parse(event));
  return { exportId: status.exportId, status: status.status, size: status.size };
});
