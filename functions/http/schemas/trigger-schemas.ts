// Request and response schemas of the trigger routes: schedules, subscriptions and their deliveries, webhooks.

import { z } from "zod";
import { OVERLAP_POLICIES, ScheduleBodySchema } from "../../../shared/triggers/schedules.ts";
import {
  type listDeliveries,
  type listSubscriptions,
  type putSubscription,
  type redeliver,
  SubscriptionBodySchema,
} from "../../../shared/triggers/subscriptions.ts";
import {
  type createWebhook,
  type listWebhooks,
  type receiveWebhook,
  WebhookBodySchema,
} from "../../../shared/triggers/webhooks.ts";
import { answers, iso, named, type Out, page } from "./schema-kit.ts";

export const ScheduleBody = named("ScheduleRequest", ScheduleBodySchema);
export const SubscriptionBody = named("SubscriptionRequest", SubscriptionBodySchema);
export const WebhookBody = named("WebhookRequest", WebhookBodySchema);
export const HookBody = z
  .record(z.string(), z.unknown())
  .describe("the JSON object of the workflow's parameters (may be empty)");

// scheduleView answers a Record<string, unknown>: no type to bind to; test/openapi.test.ts checks it on the server.
const scheduleFields = {
  name: z.string(),
  target: z.union([z.object({ workflow: z.string() }), z.object({ job: z.string() })]),
  cron: z.string(),
  timezone: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  overlap: z.enum(OVERLAP_POLICIES),
  catchupWindowSeconds: z.number(),
  nextRunAt: iso().nullable().describe("the next firing; null when disabled"),
  createdAt: iso(),
  createdBy: z.string(),
  updatedAt: iso(),
  updatedBy: z.string(),
};
const targetArchived = z
  .boolean()
  .describe("the target workflow or job is archived: the schedule does not fire until it is PUT again");
export const Schedule = named("Schedule", z.object(scheduleFields));
const ListedSchedule = named("ListedSchedule", z.object({ ...scheduleFields, targetArchived }));
export const ScheduleState = named(
  "ScheduleWithState",
  z
    .object({
      ...scheduleFields,
      lastFiredFor: iso().nullable(),
      lastRunId: z.string().nullable(),
      lastJobRunId: z.string().nullable(),
      buffered: iso().nullable().describe("overlap buffer_one: the firing waiting for the current run to end"),
      lastSkippedFor: iso().nullable(),
      lastError: z.unknown().nullable(),
      targetArchived,
    })
    .describe("a schedule with what it last did"),
);
export const ScheduleList = named("ScheduleList", page(ListedSchedule));

const subscriptionFields = {
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  createdAt: iso(),
  createdBy: z.string(),
  updatedAt: iso(),
  updatedBy: z.string(),
};
export const SubscriptionPut = answers<Out<typeof putSubscription>["body"]>()(
  "SubscriptionSaved",
  z.object({
    ...subscriptionFields,
    secret: z
      .string()
      .optional()
      .describe("only when the subscription was created without one: the generated signing secret, shown once"),
  }),
);
export const SubscriptionList = answers<Out<typeof listSubscriptions>>()(
  "SubscriptionList",
  page(named("Subscription", z.object(subscriptionFields))),
);
export const Delivery = answers<Out<typeof redeliver>>()(
  "Delivery",
  z.object({
    deliveryId: z.string(),
    subscription: z.string(),
    eventId: z.string(),
    type: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attempts: z.number(),
    responseStatus: z.number().nullable(),
    durationMs: z.number().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: iso().nullable(),
    attemptLog: z.array(
      z.object({
        attempt: z.number(),
        at: iso(),
        statusCode: z.number().nullable().describe("null when the receiver did not answer"),
        durationMs: z.number(),
        error: z.string().nullable(),
      }),
    ),
    redeliveryOf: z.string().nullable(),
    createdAt: iso(),
    updatedAt: iso(),
    completedAt: iso().nullable(),
  }),
);
export const DeliveryView = Delivery;
export const DeliveryList = answers<Out<typeof listDeliveries>>()("DeliveryList", page(Delivery));

const webhookFields = {
  webhookId: z.string(),
  url: z.string().describe("/hooks/{webhookId}"),
  workflow: z.string(),
  description: z.string().nullable(),
  createdAt: iso(),
  createdBy: z.string(),
};
export const WebhookCreated = answers<Out<typeof createWebhook>>()(
  "WebhookCreated",
  z.object({ ...webhookFields, secret: z.string().describe("the HMAC signing secret, shown once") }),
);
export const WebhookList = answers<Out<typeof listWebhooks>>()(
  "WebhookList",
  page(
    named(
      "Webhook",
      z.object({
        ...webhookFields,
        workflowArchived: z
          .boolean()
          .describe("the workflow is archived: calls to the hook answer 404 and start nothing until it is PUT again"),
      }),
    ),
  ),
);
export const WebhookAccepted = answers<Out<typeof receiveWebhook>>()(
  "WebhookAccepted",
  z.object({ runId: z.string() }),
);
