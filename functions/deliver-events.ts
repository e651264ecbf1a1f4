import type { Context, SQSEvent } from "aws-lambda";
import { cloudServices } from "./cloud-services.ts";
import { type DeliverySweepEvent, makeDeliverySweepHandler, makeDeliveryWorkerHandler } from "./trigger-handlers.ts";

const services = cloudServices("deliverEvents");
const worker = makeDeliveryWorkerHandler(services, { telemetry: services.telemetry });
const sweep = makeDeliverySweepHandler(services, services.telemetry);

/**
 * Lambda entry: the delivery queue's consumer (SQS event source with ReportBatchItemFailures) and, from a schedule
 * rule, the sweep that queues deliveries left without a message. One function: the sweep needs exactly the worker's
 * grants (the table and SendMessage on the queue).
 */
export const handler = (event: SQSEvent | DeliverySweepEvent, context: Context) =>
  "Records" in event ? worker(event, context) : sweep(event, context);
