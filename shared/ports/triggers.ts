import type { JobRunRecord } from "../jobs/job-records.ts";
import type { Resolver } from "../triggers/url-policy.ts";

// The triggers' ports: a scheduler that fires schedules, publishers of events, the delivery queue, and their options.
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

/** The triggers' adapters and options, as the composition root hands them to the use cases. */
export interface TriggerAdapters {
  scheduler: Scheduler;
  publishers: EventPublisher[];
  deliveryQueue: DeliveryQueue;
  options: TriggerOptions;
}

/** Copies options so that one stack's changes never leak into another's. */
export function cloneOptions(base: TriggerOptions = DEFAULT_TRIGGER_OPTIONS): TriggerOptions {
  return { ...base, delivery: { ...base.delivery } };
}

/** A job run as events and schedules read it. */
export type JobRunLike = JobRunRecord;
