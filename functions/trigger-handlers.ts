import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { z } from "zod";
import { ValidationError } from "../shared/errors.ts";
import type { Services } from "../shared/services.ts";
import type { DeliverySweepResult } from "../shared/triggers/delivery-sweep.ts";
import type { FireOutcome } from "../shared/triggers/schedules.ts";
import { type HandlerTelemetry, noTelemetry } from "./telemetry.ts";

/** What EventBridge Scheduler (or the embedded scheduler) sends at each instant. */
const Firing = z.object({
  orgId: z.string().min(1),
  name: z.string().min(1),
  scheduledFor: z.string().min(1),
});

/** One message of the delivery queue. */
const DeliveryMessageSchema = z.object({
  orgId: z.string().min(1),
  subscription: z.string().min(1),
  deliveryId: z.string().regex(/^dlv_/),
  notBefore: z.number().optional(),
  seed: z
    .object({
      eventId: z.string().min(1),
      type: z.string().min(1),
      body: z.string(),
      createdAt: z.string().min(1),
      redeliveryOf: z.string().nullable(),
    })
    .optional(),
  ifAttempts: z.number().int().nonnegative().optional(),
});

/** What the sweep's schedule sends (an EventBridge rule's constant input; the embedded interval sends the same). */
const DeliverySweepEventSchema = z.object({ task: z.literal("sweep-deliveries") });
export type DeliverySweepEvent = z.infer<typeof DeliverySweepEventSchema>;

/** Trigger: fires a schedule for one instant (at most once per instant, as its overlap policy says). */
export const makeScheduleTriggerHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, { outcome: FireOutcome }>().handler(async (payload) => {
    services.deps.meter.handlerCalls++;
    const parsed = Firing.safeParse(payload);
    if (!parsed.success) throw new ValidationError(`invalid schedule payload: ${parsed.error.issues[0]?.message}`);
    return { outcome: await services.triggers.fireSchedule(parsed.data) };
  });

/**
 * Delivery worker: the delivery queue's consumer (SQS with ReportBatchItemFailures in the cloud, the in-process queue
 * embedded), on Powertools' batch processor: the records go in parallel, and the answer lists the messages whose
 * handling threw, so only those return to the queue. A receiver's failure is not an error here (the worker
 * re-queues with backoff); only infrastructure errors return the message. `stop` aborts attempts in flight when the
 * embedded stack stops.
 */
export const makeDeliveryWorkerHandler = (
  services: Services,
  opts: { stop?: AbortSignal; telemetry?: HandlerTelemetry } = {},
) => {
  const { logger } = services.deps;
  const handleRecord = async (record: SQSRecord): Promise<void> => {
    let message: z.infer<typeof DeliveryMessageSchema>;
    try {
      message = DeliveryMessageSchema.parse(JSON.parse(record.body));
    } catch {
      // A malformed message never becomes valid: drop it rather than retry it into the dead-letter queue.
      logger.error("malformed delivery message dropped", { messageId: record.messageId });
      return;
    }
    try {
      await services.triggers.processDelivery(message, opts.stop);
    } catch (err) {
      logger.error("delivery attempt failed", {
        orgId: message.orgId,
        deliveryId: message.deliveryId,
        messageId: record.messageId,
        error: (err as Error).message,
      });
      throw err;
    }
  };
  return (opts.telemetry ?? noTelemetry)
    .chain<SQSEvent, SQSBatchResponse>(() => ({}))
    .handler(async (event, context) => {
      services.deps.meter.handlerCalls++;
      // A processor per batch: it holds the batch's records and failures, and the embedded queue runs batches at once.
      const processor = new BatchProcessor(EventType.SQS);
      // A batch whose every record failed is answered, not thrown: each message goes back, as with a partial failure.
      return processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
    });
};

/** Sweep: queues the deliveries left without a queue message (see `sweepUnsentDeliveries`). */
export const makeDeliverySweepHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, DeliverySweepResult>().handler(async (payload) => {
    // Not metered: a fixed cost per interval (one index query when idle), not a cost of any run.
    const parsed = DeliverySweepEventSchema.safeParse(payload);
    if (!parsed.success) throw new ValidationError(`invalid sweep payload: ${parsed.error.issues[0]?.message}`);
    const result = await services.triggers.sweepUnsentDeliveries();
    if (result.found) services.deps.logger.info("unsent deliveries swept", { ...result });
    return result;
  });
