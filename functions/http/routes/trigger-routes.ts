import { deleteSchedule, listSchedules, putSchedule, readSchedule } from "../../../shared/triggers/schedules.ts";
import {
  deleteSubscription,
  listDeliveries,
  listSubscriptions,
  putSubscription,
  redeliver,
} from "../../../shared/triggers/subscriptions.ts";
import { defineRoute, json, ok } from "../route.ts";
import {
  DeliveryList,
  DeliveryView,
  Schedule,
  ScheduleBody,
  ScheduleList,
  ScheduleState,
  SubscriptionBody,
  SubscriptionList,
  SubscriptionPut,
} from "../schemas/trigger-schemas.ts";

/** Schedules, subscriptions to events and their deliveries. */
export const triggerRoutes = [
  defineRoute({
    method: "PUT",
    path: "/api/schedules/{name}",
    access: "operator",
    summary: "Create or replace a schedule",
    body: ScheduleBody,
    responses: {
      201: json(Schedule, "The schedule was created"),
      200: json(Schedule, "The schedule was replaced"),
    },
    errors: { 400: "a bad name, cron or timezone, an unknown target, or parameters the target does not accept" },
    handler: async (r) => {
      const res = await putSchedule(r.deps, r.principal, r.params.name, r.body);
      return ok(res.body, res.created ? 201 : 200);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/schedules",
    access: "viewer",
    summary: "List schedules",
    paged: true,
    responses: { 200: json(ScheduleList, "The org's schedules, newest first") },
    handler: async (r) => ok(await listSchedules(r.deps, r.principal, r.page)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/schedules/{name}",
    access: "viewer",
    summary: "A schedule and what it last did (an addition to the contract)",
    responses: { 200: json(ScheduleState, "The schedule with lastFiredFor, lastRunId, lastJobRunId, buffered…") },
    handler: async (r) => ok(await readSchedule(r.deps, r.principal, r.params.name)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/schedules/{name}",
    access: "operator",
    summary: "Delete a schedule",
    responses: { 204: { description: "Deleted" } },
    handler: async (r) => {
      await deleteSchedule(r.deps, r.principal, r.params.name);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "PUT",
    path: "/api/subscriptions/{name}",
    access: "admin",
    summary: "Create or replace a subscription to events",
    body: SubscriptionBody,
    responses: {
      201: json(SubscriptionPut, "The subscription was created (with `secret` when one was generated)"),
      200: json(SubscriptionPut, "The subscription was replaced (an update without a secret keeps the old one)"),
    },
    errors: { 400: "a bad name, a url that is not https (or points at a private address), or unknown event types" },
    handler: async (r) => {
      const res = await putSubscription(r.deps, r.principal, r.params.name, r.body);
      return ok(res.body, res.created ? 201 : 200);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/subscriptions",
    access: "viewer",
    summary: "List subscriptions (an addition to the contract)",
    paged: true,
    responses: { 200: json(SubscriptionList, "The org's subscriptions, without secrets") },
    handler: async (r) => ok(await listSubscriptions(r.deps, r.principal, r.page)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/subscriptions/{name}",
    access: "admin",
    summary: "Delete a subscription (an addition to the contract)",
    responses: { 204: { description: "Deleted" } },
    handler: async (r) => {
      await deleteSubscription(r.deps, r.principal, r.params.name);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/subscriptions/{name}/deliveries",
    access: "viewer",
    summary: "A subscription's delivery attempts",
    paged: true,
    responses: { 200: json(DeliveryList, "Deliveries, newest first, each with its attempts") },
    handler: async (r) => ok(await listDeliveries(r.deps, r.principal, r.params.name, r.page)),
  }),
  defineRoute({
    method: "POST",
    path: "/api/subscriptions/{name}/deliveries/{id}/redeliver",
    access: "admin",
    summary: "Send a delivery's event again",
    responses: { 202: json(DeliveryView, "A new delivery of the same event id and body, queued") },
    handler: async (r) => ok(await redeliver(r.deps, r.principal, r.params.name, r.params.id), 202),
  }),
] as const;
