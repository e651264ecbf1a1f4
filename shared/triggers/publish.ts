import type { Deps } from "../deps.ts";
import type { RunRecord, RunStatus } from "../domain/records.ts";
import type { JobRunLike, StepwiseEvent } from "./area.ts";
import { triggersOf } from "./area.ts";
import { eventBody, queueDelivery } from "./delivery.ts";
import { jobRunEvent, matchesEvent, runEvent } from "./events.ts";
import { onScheduledJobRunChange, onScheduledRunChange } from "./schedule-firing.ts";
import { allSubscriptions } from "./subscriptions.ts";

const logError = (deps: Deps, msg: string, err: unknown, extra: Record<string, unknown> = {}) =>
  deps.logger.error(msg, { ...extra, error: (err as Error)?.message ?? String(err) });

/**
 * Publishes one event: to the cloud channels (SNS, EventBridge) when configured, and as one queued delivery per
 * matching subscription. Nothing here waits on a receiver: deliveries are sent by the delivery worker. A delivery whose
 * queue message cannot be sent is still recorded, and the delivery sweep queues it later (`queueDelivery`); only a
 * failure to write both is logged as lost. The channels and the deliveries go out side by side, which keeps the
 * window between the run's commit and its deliveries' records short.
 */
export async function publishEvent(deps: Deps, event: StepwiseEvent): Promise<void> {
  const area = triggersOf(deps);
  const channels = area.publishers.map((p) =>
    p
      .publish(event)
      .catch((err) => logError(deps, "event publish failed", err, { publisher: p.name, eventId: event.id })),
  );
  await Promise.all([...channels, queueDeliveries(deps, event)]);
}

/** One queued delivery of the event per matching subscription of its org. */
async function queueDeliveries(deps: Deps, event: StepwiseEvent): Promise<void> {
  const subs = await allSubscriptions(deps, event.data.orgId).catch((err) => {
    logError(deps, "delivery lost: subscriptions not read", err, { eventId: event.id });
    return [];
  });
  const matching = subs.filter((s) => matchesEvent(s.events, event.type));
  if (!matching.length) return;
  const body = eventBody(event);
  await Promise.all(
    matching.map((s) =>
      queueDelivery(deps, s.orgId, s.name, { eventId: event.id, type: event.type, body }).catch((err) =>
        logError(deps, "delivery lost: neither queued nor recorded", err, { subscription: s.name, eventId: event.id }),
      ),
    ),
  );
}

/** The run listener of the area: one event per run status change, and buffered schedule firings. */
export function makeRunListener(deps: Deps) {
  return async (run: RunRecord, from: RunStatus | null): Promise<void> => {
    try {
      await publishEvent(deps, runEvent(deps.clock, run, from));
    } finally {
      await onScheduledRunChange(deps, run, from);
    }
  };
}

/** The job-run listener of the area: one event per job-run status change, and schedules' job-run tracking. */
export function makeJobRunListener(deps: Deps) {
  return async (jobRun: JobRunLike, from: string | null): Promise<void> => {
    try {
      const event = jobRunEvent(deps.clock, jobRun, from);
      if (event) await publishEvent(deps, event);
    } finally {
      await onScheduledJobRunChange(deps, jobRun);
    }
  };
}
