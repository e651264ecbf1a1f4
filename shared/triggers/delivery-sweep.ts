import type { Deps } from "../deps.ts";
import { isoMicro, parseIsoMicro } from "../domain/clock.ts";
import type { Page } from "../domain/records.ts";
import { wroteUnlessStale } from "../kernel/optimistic-update.ts";
import { triggersOf } from "./area.ts";
import type { DeliveryRecord } from "./trigger-records.ts";

/**
 * How old an unsent delivery must be before the sweep queues it: a large event's record is in the index from its
 * creation until its first attempt, which a busy queue may hold back for a while; queuing it again early would only
 * add a message the worker drops.
 */
export const UNSENT_DELIVERY_AGE_MS = 120_000;

export interface DeliverySweepResult {
  /** Deliveries older than the threshold found in the sweep's index. */
  found: number;
  /** Of those, the ones queued again (the others had been attempted meanwhile). */
  requeued: number;
}

/**
 * Queues the deliveries that may have no queue message (their first SendMessage failed, their event was too large to
 * ride in it, or the worker could not queue their retry) once they are older than `olderThanMs`, and takes them out
 * of the index. Idempotent: the message names the same delivery (so the same event id), is dropped by the worker
 * unless the delivery still has the attempt count it was indexed with, and the worker's next recorded attempt takes
 * the delivery out of the index. Run on a schedule (every two minutes in the cloud, on an interval embedded).
 */
export async function sweepUnsentDeliveries(
  deps: Deps,
  opts: { olderThanMs?: number; max?: number } = {},
): Promise<DeliverySweepResult> {
  const cutoff = isoMicro(deps.clock.nowMs() - (opts.olderThanMs ?? UNSENT_DELIVERY_AGE_MS));
  const max = opts.max ?? 500;
  const result: DeliverySweepResult = { found: 0, requeued: 0 };
  let cursor: string | null = null;
  do {
    // Oldest first: the first delivery younger than the cutoff ends the sweep, so an idle one reads one empty page.
    const page: Page<DeliveryRecord> = await deps.repos.deliveries.listUnsent({ limit: 100, cursor });
    for (const listed of page.items) {
      if (listed.createdAt > cutoff || result.found >= max) return result;
      result.found++;
      if (await requeue(deps, listed)) result.requeued++;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return result;
}

/** Queues one unsent delivery again and takes it out of the index; false when it was attempted meanwhile. */
async function requeue(deps: Deps, listed: DeliveryRecord): Promise<boolean> {
  // The index is eventually consistent: the record itself says whether the delivery is still where it was indexed.
  const rec = await deps.repos.deliveries.get(listed.orgId, listed.subscription, listed.deliveryId);
  if (rec?.status !== "pending" || rec.attempts !== listed.attempts) return false;
  // A retry the worker could not queue keeps its backoff: it is queued for when it was due.
  const dueIn = rec.nextAttemptAt ? parseIsoMicro(rec.nextAttemptAt) - deps.clock.nowMs() : 0;
  await triggersOf(deps).deliveryQueue.enqueue(
    { orgId: rec.orgId, subscription: rec.subscription, deliveryId: rec.deliveryId, ifAttempts: rec.attempts },
    Math.max(0, dueIn),
  );
  // Queued (a queue keeps its messages): out of the index, unless the worker already recorded an attempt (which did).
  await wroteUnlessStale(() => deps.repos.deliveries.save(rec, { unsent: false, expect: { attempts: rec.attempts } }));
  return true;
}
