import type { Deps } from "../deps.ts";
import { isoMicro, nowIso } from "../domain/clock.ts";
import { newId } from "../domain/ids.ts";
import { wroteUnlessStale } from "../kernel/optimistic-update.ts";
import type { DeliveryMessage, DeliverySeed, StepwiseEvent, TriggerOptions } from "./area.ts";
import { triggersOf, urlPolicyOf } from "./area.ts";
import { signedHeaders } from "./standard-webhooks.ts";
import type { DeliveryRecord } from "./trigger-records.ts";
import { refusedResolved, refusedUrl, systemResolver } from "./url-policy.ts";
import { secretBoxOf } from "./webhooks.ts";

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

/**
 * The largest seed that rides in the first queue message (kept within one 64 KiB SQS billing chunk). A larger event's
 * record is written before its message and waits in the sweep's index until its first attempt.
 */
export const MAX_SEED_BYTES = 60_000;

/** A new pending delivery, as created by the publisher (or by the worker, from the seed of its first message). */
function pendingDelivery(orgId: string, subscription: string, deliveryId: string, seed: DeliverySeed): DeliveryRecord {
  return {
    deliveryId,
    orgId,
    subscription,
    eventId: seed.eventId,
    type: seed.type,
    body: seed.body,
    status: "pending",
    attempts: 0,
    responseStatus: null,
    durationMs: null,
    lastError: null,
    attemptLog: [],
    nextAttemptAt: seed.createdAt,
    createdAt: seed.createdAt,
    updatedAt: seed.createdAt,
    completedAt: null,
    redeliveryOf: seed.redeliveryOf,
  };
}

/** Writes a delivery's record unless it exists (the worker and the publisher may both write it); true when written. */
function putIfAbsent(deps: Deps, record: DeliveryRecord, unsent: boolean): Promise<boolean> {
  return wroteUnlessStale(() => deps.repos.deliveries.save(record, { unsent, expect: { absent: true } }));
}

/**
 * Records a pending delivery of an event to a subscription and queues its first attempt, so that it is never lost
 * between the two: the message is sent first and carries the record's content (the worker writes the record if this
 * process dies before it does); when the message cannot be sent, the record is written into the sweep's index and the
 * sweep queues it later. Throws only when neither the message nor the record could be written.
 */
export async function queueDelivery(
  deps: Deps,
  orgId: string,
  subscription: string,
  event: { eventId: string; type: string; body: string },
  redeliveryOf: string | null = null,
): Promise<DeliveryRecord> {
  const queue = triggersOf(deps).deliveryQueue;
  const seed: DeliverySeed = { ...event, createdAt: nowIso(deps.clock), redeliveryOf };
  const record = pendingDelivery(orgId, subscription, newId("dlv", deps.clock.nowMs()), seed);
  // Queued for the first attempt: a duplicate or late copy arriving after it is dropped by the worker.
  const message: DeliveryMessage = { orgId, subscription, deliveryId: record.deliveryId, ifAttempts: 0 };
  const ids = { deliveryId: record.deliveryId, eventId: record.eventId, subscription };
  if (Buffer.byteLength(JSON.stringify(seed)) > MAX_SEED_BYTES) {
    // Too large to ride in the message: the record first, in the sweep's index until its first attempt is recorded.
    await deps.repos.deliveries.save(record, { unsent: true });
    await queue
      .enqueue(message, 0)
      .catch((err) =>
        deps.logger.warn("delivery not queued; the sweep will queue it", { ...ids, error: (err as Error).message }),
      );
    return record;
  }
  try {
    await queue.enqueue({ ...message, seed }, 0);
  } catch (err) {
    deps.logger.warn("delivery not queued; the sweep will queue it", { ...ids, error: (err as Error).message });
    // A timed-out send may still have been delivered: the worker may have written the record from its seed already.
    await putIfAbsent(deps, record, true);
    return record;
  }
  // The message is queued and carries the seed: a failure here only means the worker writes the record instead.
  await putIfAbsent(deps, record, false).catch((err) =>
    deps.logger.warn("delivery record left to the worker", { ...ids, error: (err as Error).message }),
  );
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
  const stored = await deps.repos.deliveries.get(msg.orgId, msg.subscription, msg.deliveryId);
  // The publisher writes the record just after queuing the first message. When this worker is first (or the publisher
  // died), the message's seed stands in for it and the attempt's write creates it: no extra read or write either way.
  const rec = stored ?? (msg.seed ? pendingDelivery(msg.orgId, msg.subscription, msg.deliveryId, msg.seed) : null);
  if (rec?.status !== "pending") return "done";
  // Every message is queued for one attempt: a duplicate, a late first message or a sweep's message for a delivery
  // that has moved on is dropped, so that it neither skips the backoff nor starts a second retry chain. Messages
  // without the field come from older versions, already in flight: accepted.
  if (msg.ifAttempts !== undefined && rec.attempts !== msg.ifAttempts) return "done";
  const now = deps.clock.nowMs();
  // The queue holds a message at most 15 minutes in the cloud: a longer backoff arrives early and waits again.
  if (msg.notBefore && msg.notBefore > now + 1000) {
    await area.deliveryQueue.enqueue(
      {
        orgId: msg.orgId,
        subscription: msg.subscription,
        deliveryId: msg.deliveryId,
        seed: stored ? undefined : msg.seed,
        ifAttempts: rec.attempts,
      },
      msg.notBefore - now,
    );
    return "deferred";
  }
  const sub = await deps.repos.subscriptions.get(msg.orgId, msg.subscription);
  const o = area.options.delivery;
  const attempt = rec.attempts + 1;
  const startedAt = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  // Checked before every attempt: a name may point at a link-local, metadata or (in the cloud) private address now.
  const policy = urlPolicyOf(area.options);
  const refused = sub
    ? (refusedUrl(sub.url, policy) ??
      (await refusedResolved(sub.url, policy, area.options.resolveHost ?? systemResolver)))
    : null;
  if (!sub) {
    error = "the subscription was deleted";
  } else if (refused) {
    error = `not sent: ${refused}`;
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
          "Stepwise-Delivery-Id": rec.deliveryId,
          // Standard Webhooks: webhook-id is the event id, the same on every retry and redelivery (receivers dedupe).
          ...signedHeaders(secret, rec.eventId, rec.body, deps.clock.nowMs()),
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
  // Conditional on the attempt count read: a duplicate queue message's attempt does not count twice. Written from
  // the seed, the record may not exist yet, or the publisher may have written it meanwhile (still unattempted).
  // Written as sent: a first attempt takes the delivery out of the sweep's list.
  const recorded = await wroteUnlessStale(() =>
    deps.repos.deliveries.save(next, { unsent: false, expect: { attempts: rec.attempts, orAbsent: !stored } }),
  );
  if (!recorded) return "done";
  if (next.status === "pending") {
    const retry: DeliveryMessage = {
      orgId: msg.orgId,
      subscription: msg.subscription,
      deliveryId: msg.deliveryId,
      ifAttempts: attempt,
    };
    try {
      await area.deliveryQueue.enqueue(retry, delay);
    } catch (err) {
      // This message is for the attempt just recorded: queued again, it would be dropped, and the delivery would wait
      // forever. The sweep's index takes it instead (unless it moved on meanwhile); the sweep keeps the backoff.
      deps.logger.warn("delivery retry not queued; the sweep will queue it", {
        deliveryId: rec.deliveryId,
        subscription: msg.subscription,
        error: (err as Error).message,
      });
      await wroteUnlessStale(() => deps.repos.deliveries.save(next, { unsent: true, expect: { attempts: attempt } }));
    }
    return "retrying";
  }
  return next.status === "succeeded" ? "succeeded" : "failed";
}
