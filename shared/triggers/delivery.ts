import type { Deps } from "../deps.ts";
import { isoMicro, nowIso } from "../domain/clock.ts";
import { newId } from "../domain/ids.ts";
import { ConflictError } from "../errors.ts";
import type { DeliveryMessage, StepwiseEvent, TriggerOptions } from "./area.ts";
import { triggersOf } from "./area.ts";
import { deliveriesPk, SUBSCRIPTION_SK, subscriptionPk } from "./keys.ts";
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signStepwisePayload } from "./verify-signature.ts";
import { secretBoxOf } from "./webhooks.ts";

export type DeliveryStatus = "pending" | "succeeded" | "failed";

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  /** The receiver's HTTP status; null when it did not answer (timeout, refused connection). */
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

export interface DeliveryRecord {
  deliveryId: string;
  orgId: string;
  subscription: string;
  eventId: string;
  type: string;
  /** The exact body sent on every attempt (and on redelivery): the event's JSON. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  responseStatus: number | null;
  durationMs: number | null;
  lastError: string | null;
  attemptLog: DeliveryAttempt[];
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  redeliveryOf: string | null;
}

/** What a subscription stores (its secret sealed). */
export interface SubscriptionRecord {
  orgId: string;
  name: string;
  url: string;
  events: string[];
  secretSealed: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** The sealing context of a subscription's secret. */
export const subscriptionSealContext = (orgId: string, name: string) => ({
  orgId,
  subscription: name,
  purpose: "subscription",
});

/** A delivery as the API shows it. */
export const deliveryView = (d: DeliveryRecord) => ({
  deliveryId: d.deliveryId,
  subscription: d.subscription,
  eventId: d.eventId,
  type: d.type,
  status: d.status,
  attempts: d.attempts,
  responseStatus: d.responseStatus,
  durationMs: d.durationMs,
  lastError: d.lastError,
  nextAttemptAt: d.nextAttemptAt,
  attemptLog: d.attemptLog,
  redeliveryOf: d.redeliveryOf,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
  completedAt: d.completedAt,
});

/** The delay before attempt n+1 after n failed ones: base·2^(n-1), capped, with ±jitter. */
export function retryDelayMs(failedAttempts: number, o: TriggerOptions["delivery"], random = Math.random): number {
  const exp = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.max(0, Math.round(exp * (1 - o.jitter + 2 * o.jitter * random())));
}

/** Records a pending delivery of an event to a subscription and queues its first attempt. */
export async function queueDelivery(
  deps: Deps,
  orgId: string,
  subscription: string,
  event: { eventId: string; type: string; body: string },
  redeliveryOf: string | null = null,
): Promise<DeliveryRecord> {
  const at = nowIso(deps.clock);
  const record: DeliveryRecord = {
    deliveryId: newId("dlv", deps.clock.nowMs()),
    orgId,
    subscription,
    eventId: event.eventId,
    type: event.type,
    body: event.body,
    status: "pending",
    attempts: 0,
    responseStatus: null,
    durationMs: null,
    lastError: null,
    attemptLog: [],
    nextAttemptAt: at,
    createdAt: at,
    updatedAt: at,
    completedAt: null,
    redeliveryOf,
  };
  await deps.store.putItem({ pk: deliveriesPk(orgId, subscription), sk: record.deliveryId, ...record });
  await triggersOf(deps).deliveryQueue.enqueue({ orgId, subscription, deliveryId: record.deliveryId }, 0);
  return record;
}

/** The serialized event, as delivered. */
export const eventBody = (event: StepwiseEvent): string => JSON.stringify(event);

export type ProcessOutcome = "succeeded" | "retrying" | "failed" | "deferred" | "done" | "stopped";

/**
 * One delivery attempt (the delivery worker: SQS-triggered in the cloud, in process embedded): POSTs the signed event,
 * records the attempt, and queues the next one with backoff until it succeeds or runs out of attempts.
 * `stop` aborts an attempt in flight without recording it (the embedded stack stopping); it is retried on restart.
 */
export async function processDelivery(deps: Deps, msg: DeliveryMessage, stop?: AbortSignal): Promise<ProcessOutcome> {
  const area = triggersOf(deps);
  const pk = deliveriesPk(msg.orgId, msg.subscription);
  const rec = await deps.store.getItem<DeliveryRecord>(pk, msg.deliveryId);
  if (rec?.status !== "pending") return "done";
  const now = deps.clock.nowMs();
  // The queue holds a message at most 15 minutes in the cloud: a longer backoff arrives early and waits again.
  if (msg.notBefore && msg.notBefore > now + 1000) {
    await area.deliveryQueue.enqueue(
      { orgId: msg.orgId, subscription: msg.subscription, deliveryId: msg.deliveryId },
      msg.notBefore - now,
    );
    return "deferred";
  }
  const sub = await deps.store.getItem<SubscriptionRecord>(
    subscriptionPk(msg.orgId, msg.subscription),
    SUBSCRIPTION_SK,
  );
  const o = area.options.delivery;
  const attempt = rec.attempts + 1;
  const startedAt = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  if (!sub) {
    error = "the subscription was deleted";
  } else {
    const secret = await secretBoxOf(deps).decrypt(sub.secretSealed, subscriptionSealContext(sub.orgId, sub.name));
    const timeout = AbortSignal.timeout(o.timeoutMs);
    try {
      const res = await fetch(sub.url, {
        method: "POST",
        body: rec.body,
        redirect: "manual",
        signal: stop ? AbortSignal.any([timeout, stop]) : timeout,
        headers: {
          "content-type": "application/json",
          "user-agent": "Stepwise-Webhooks/1",
          [EVENT_ID_HEADER]: rec.eventId,
          "Stepwise-Delivery-Id": rec.deliveryId,
          [SIGNATURE_HEADER]: signStepwisePayload(secret, rec.body, Math.floor(deps.clock.nowMs() / 1000)),
        },
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => {});
      if (statusCode < 200 || statusCode > 299) error = `the receiver answered ${statusCode}`;
    } catch (err) {
      if (stop?.aborted) return "stopped";
      error = timeout.aborted
        ? `no answer within ${o.timeoutMs} ms`
        : `request failed: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`;
    }
  }
  const durationMs = Math.round(performance.now() - startedAt);
  const at = deps.clock.nowMs();
  const succeeded = error === null;
  const exhausted = !sub || attempt >= o.maxAttempts;
  const delay = succeeded || exhausted ? 0 : retryDelayMs(attempt, o);
  const next: DeliveryRecord = {
    ...rec,
    status: succeeded ? "succeeded" : exhausted ? "failed" : "pending",
    attempts: attempt,
    responseStatus: statusCode,
    durationMs,
    lastError: error,
    attemptLog: [...rec.attemptLog, { attempt, at: isoMicro(at), statusCode, durationMs, error }],
    nextAttemptAt: succeeded || exhausted ? null : isoMicro(at + delay),
    updatedAt: isoMicro(at),
    completedAt: succeeded || exhausted ? isoMicro(at) : null,
  };
  try {
    // Conditional on the attempt count read: a duplicate queue message's attempt does not count twice.
    await deps.store.putItem(
      { pk, sk: rec.deliveryId, ...next },
      { condition: "attempts = :a", values: { ":a": rec.attempts } },
    );
  } catch (err) {
    if (err instanceof ConflictError) return "done";
    throw err;
  }
  if (next.status === "pending") {
    await area.deliveryQueue.enqueue(
      { orgId: msg.orgId, subscription: msg.subscription, deliveryId: msg.deliveryId },
      delay,
    );
    return "retrying";
  }
  return next.status === "succeeded" ? "succeeded" : "failed";
}
