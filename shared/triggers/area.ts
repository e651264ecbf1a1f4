import type { Deps } from "../deps.ts";
import type { Resolver, UrlPolicy } from "./url-policy.ts";

/** What a scheduler needs to know of a schedule to fire it: its instants, never its target or parameters. */
export interface ScheduleRegistration {
  orgId: string;
  name: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  catchupWindowSeconds: number;
}

/** Fires schedules at their instants (EventBridge Scheduler in the cloud, an in-process cron embedded). */
export interface Scheduler {
  /** Creates or replaces the schedule's registration. */
  put(schedule: ScheduleRegistration): Promise<void>;
  /** Removes it; no-op when absent. */
  remove(orgId: string, name: string): Promise<void>;
}

/** What a scheduler hands to the trigger handler at each instant. */
export interface ScheduleFiring {
  orgId: string;
  name: string;
  /** The instant the schedule was due, ISO 8601. */
  scheduledFor: string;
}

/** An event as delivered and published: `{id, type, occurredAt, data}`. */
export interface StepwiseEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown> & { orgId: string };
}

/** Fans an event out to a cloud channel (the SNS topic, the EventBridge bus). */
export interface EventPublisher {
  readonly name: string;
  publish(event: StepwiseEvent): Promise<void>;
}

/** A queued delivery attempt: which delivery, and (for long delays the queue cannot hold) not before when. */
export interface DeliveryMessage {
  orgId: string;
  subscription: string;
  deliveryId: string;
  /** Epoch ms; set when the wanted delay exceeded what the queue can hold, so the worker re-queues early arrivals. */
  notBefore?: number;
  /** The first message carries what the worker needs to write the record when the publisher died before it did. */
  seed?: DeliverySeed;
  /**
   * The delivery's attempt count the message was queued for (0 for the first attempt); the worker drops a message for
   * a delivery that has moved on. Absent only on messages queued by older versions.
   */
  ifAttempts?: number;
}

/** A delivery's content, enough to create its record (the deliveryId, org and subscription are in the message). */
export interface DeliverySeed {
  eventId: string;
  type: string;
  body: string;
  createdAt: string;
  redeliveryOf: string | null;
}

/** The queue between the run listener and the delivery worker (SQS in the cloud, in process embedded). */
export interface DeliveryQueue {
  enqueue(message: DeliveryMessage, delayMs: number): Promise<void>;
}

/** Tunables of the area; tests shorten the delays. */
export interface TriggerOptions {
  delivery: {
    /** Attempts before a delivery is marked failed (the first one included). */
    maxAttempts: number;
    /** Delay before the second attempt; each later one doubles it (with jitter), capped by maxDelayMs. */
    baseDelayMs: number;
    maxDelayMs: number;
    /** Fraction of each delay that is randomized (0..1). */
    jitter: number;
    /** A receiver slower than this counts as a failed attempt. */
    timeoutMs: number;
  };
  /**
   * How late an instant may still fire when the scheduler was up when it came (a busy event loop, a cold start, a
   * retried invocation). Instants missed while the service was down fire only within the schedule's catch-up window.
   */
  scheduleGraceSeconds: number;
  /** Subscriptions may target http:// (embedded mode); the cloud requires https. */
  allowInsecureUrls: boolean;
  /**
   * Subscriptions may target loopback and private ranges (embedded mode; in the cloud only when the deployment sets
   * SUBSCRIPTIONS_ALLOW_PRIVATE_URLS). Link-local and metadata addresses are refused whatever this says.
   */
  allowPrivateUrls: boolean;
  /** How a receiver's host name is resolved before each delivery; the system resolver unless a test sets one. */
  resolveHost?: Resolver;
  /** Largest inbound webhook body. */
  maxWebhookBodyBytes: number;
}

/** The defaults: 6 attempts over about an hour (2, 4, 8, 16, 32 minutes, ±20%). */
export const DEFAULT_TRIGGER_OPTIONS: TriggerOptions = {
  delivery: { maxAttempts: 6, baseDelayMs: 120_000, maxDelayMs: 3_600_000, jitter: 0.2, timeoutMs: 10_000 },
  scheduleGraceSeconds: 60,
  allowInsecureUrls: false,
  allowPrivateUrls: false,
  maxWebhookBodyBytes: 256 * 1024,
};

/** The triggers area's services, wired once per runtime into `deps.areas.triggers`. */
export interface TriggersArea {
  scheduler: Scheduler;
  publishers: EventPublisher[];
  deliveryQueue: DeliveryQueue;
  options: TriggerOptions;
}

/** Copies options so that one stack's changes never leak into another's. */
export function cloneOptions(base: TriggerOptions = DEFAULT_TRIGGER_OPTIONS): TriggerOptions {
  return { ...base, delivery: { ...base.delivery } };
}

/** The area's services; throws when the runtime did not wire them (a wiring bug, reported as a 500). */
export function triggersOf(deps: Deps): TriggersArea {
  const area = deps.areas.triggers as TriggersArea | undefined;
  if (!area) throw new Error("the triggers area is not wired in this runtime");
  return area;
}

/** The jobs area as far as triggers use it: job-run listeners and, when offered, starting a job run. */
export interface JobsAreaView {
  listeners?: Array<(jobRun: JobRunLike, from: string | null) => Promise<void>>;
  startJobRun?: (...args: never[]) => Promise<unknown>;
}

/** The fields of a job run that events and overlap checks read. */
export interface JobRunLike {
  jobRunId: string;
  job: string;
  status: string;
  orgId?: string;
  [extra: string]: unknown;
}

/** The subscription URL policy the area's options give. */
export const urlPolicyOf = (o: TriggerOptions): UrlPolicy => ({
  allowHttp: o.allowInsecureUrls,
  allowPrivate: o.allowPrivateUrls,
});
