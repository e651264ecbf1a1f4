import {
  deleteSchedule,
  listSchedules,
  putSchedule,
  readSchedule,
  ScheduleBodySchema,
} from "../../../shared/triggers/schedules.ts";
import {
  deleteSubscription,
  listDeliveries,
  listSubscriptions,
  putSubscription,
  redeliver,
  SubscriptionBodySchema,
} from "../../../shared/triggers/subscriptions.ts";
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  receiveWebhook,
  WebhookBodySchema,
} from "../../../shared/triggers/webhooks.ts";
import { ok, pageOf, parseWith, type RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";

const param = (path: Record<string, string>, key: string): string => path[key] as string;

/** Routes of the triggers area: schedules, inbound webhooks, subscriptions and their deliveries. */
export const routes: Partial<Record<RouteKey, RouteHandler>> = {
  "PUT /api/schedules/{name}": async (r) => {
    const res = await putSchedule(r.deps, r.principal, param(r.path, "name"), parseWith(ScheduleBodySchema, r.body));
    return ok(res.body, res.created ? 201 : 200);
  },
  "GET /api/schedules": async (r) => ok(await listSchedules(r.deps, r.principal, pageOf(r.query))),
  "GET /api/schedules/{name}": async (r) => ok(await readSchedule(r.deps, r.principal, param(r.path, "name"))),
  "DELETE /api/schedules/{name}": async (r) => {
    await deleteSchedule(r.deps, r.principal, param(r.path, "name"));
    return { status: 204 };
  },

  "POST /api/workflows/{name}/webhooks": async (r) => {
    const body = parseWith(WebhookBodySchema, r.body);
    return ok(await createWebhook(r.deps, r.principal, param(r.path, "name"), body.description), 201);
  },
  "GET /api/workflows/{name}/webhooks": async (r) =>
    ok(await listWebhooks(r.deps, r.principal, param(r.path, "name"), pageOf(r.query))),
  "DELETE /api/workflows/{name}/webhooks/{webhookId}": async (r) => {
    await deleteWebhook(r.deps, r.principal, param(r.path, "name"), param(r.path, "webhookId"));
    return { status: 204 };
  },
  "POST /hooks/{webhookId}": async (r) =>
    ok(
      await receiveWebhook(r.deps, {
        webhookId: param(r.path, "webhookId"),
        rawBody: r.rawBody,
        body: r.body,
        headers: r.headers,
      }),
      202,
    ),

  "PUT /api/subscriptions/{name}": async (r) => {
    const res = await putSubscription(
      r.deps,
      r.principal,
      param(r.path, "name"),
      parseWith(SubscriptionBodySchema, r.body),
    );
    return ok(res.body, res.created ? 201 : 200);
  },
  "GET /api/subscriptions": async (r) => ok(await listSubscriptions(r.deps, r.principal, pageOf(r.query))),
  "DELETE /api/subscriptions/{name}": async (r) => {
    await deleteSubscription(r.deps, r.principal, param(r.path, "name"));
    return { status: 204 };
  },
  "GET /api/subscriptions/{name}/deliveries": async (r) =>
    ok(await listDeliveries(r.deps, r.principal, param(r.path, "name"), pageOf(r.query))),
  "POST /api/subscriptions/{name}/deliveries/{id}/redeliver": async (r) =>
    ok(await redeliver(r.deps, r.principal, param(r.path, "name"), param(r.path, "id")), 202),
};
