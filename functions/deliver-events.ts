import { cloudDeps } from "./cloud-deps.ts";
import { makeDeliveryWorkerHandler } from "./trigger-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: the delivery queue's consumer (SQS event source with ReportBatchItemFailures). */
export const handler = makeDeliveryWorkerHandler(cloudDeps());
