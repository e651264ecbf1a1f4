import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { z } from "zod";
import { ValidationError } from "../shared/errors.ts";
import type { Services } from "../shared/services.ts";
import type { DeliverySweepResult } from "../shared/triggers/delivery-sweep.ts";
import type { FireOutcome } from "../shared/triggers/schedules.ts";

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

const log = (msg: string, extra: Record<string, unknown>) =>
  console.error(JSON.stringify({ level: "error", msg, ...extra }));

/** Trigger: fires a schedule for one instant (at most once per instant, as its overlap policy says). */
export const makeScheduleTriggerHandler = (services: Services) =>
  middy<unknown, { outcome: FireOutcome }>().handler(async (payload) => {
    services.deps.meter.handlerCalls++;
    const parsed = Firing.safeParse(payload);
    if (!parsed.success) throw new ValidationError(`invalid schedule payload: ${parsed.error.issues[0]?.message}`);
    return { outcome: await services.triggers.fireSchedule(parsed.data) };
  });

/**
 * Delivery worker: the delivery queue's consumer (SQS with ReportBatchItemFailures in the cloud, the in-process queue
 * embedded). A receiver's failure is not an error here (the worker re-queues with backoff); only infrastructure
 * errors return the message to the queue. `stop` aborts attempts in flight when the embedded stack stops.
 */
export const makeDeliveryWorkerHandler = (services: Services, opts: { stop?: AbortSignal } = {}) =>
  middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
    services.deps.meter.handlerCalls++;
    const failures: SQSBatchResponse["batchItemFailures"] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        let message: z.infer<typeof DeliveryMessageSchema>;
        try {
          message = DeliveryMessageSchema.parse(JSON.parse(record.body));
        } catch {
          // A malformed message never becomes valid: drop it rather than retry it into the dead-letter queue.
          log("malformed delivery message dropped", { messageId: record.messageId });
          return;
        }
        try {
          await services.triggers.processDelivery(message, opts.stop);
        } catch (err) {
          log("delivery attempt failed", { deliveryId: message.deliveryId, error: (err as Error).message });
          failures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  });

/** Sweep: queues the deliveries left without a queue message (see `sweepUnsentDeliveries`). */
export const makeDeliverySweepHandler = (services: Services) =>
  middy<unknown, DeliverySweepResult>().handler(async (payload) => {
    // Not metered: a fixed cost per interval (one index query when idle), not a cost of any run.
    const parsed = DeliverySweepEventSchema.safeParse(payload);
    if (!parsed.success) throw new ValidationError(`invalid sweep payload: ${parsed.error.issues[0]?.message}`);
    const result = await services.triggers.sweepUnsentDeliveries();
    if (result.found) console.log(JSON.stringify({ level: "info", msg: "unsent deliveries swept", ...result }));
    return result;
  });
