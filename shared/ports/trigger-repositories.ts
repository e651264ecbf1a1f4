import type { Page } from "../domain/records.ts";
import type { ScheduleRecord, ScheduleState } from "../triggers/schedule-records.ts";
import type { DeliveryRecord, SubscriptionRecord, WebhookRecord } from "../triggers/trigger-records.ts";
import type { PageRequest } from "./run-store.ts";

// The triggers' aggregates. Conditional writes follow the optimistic-update contract (shared/kernel/optimistic-update.ts):
// when another writer won they throw StaleStateError.

/** A fired instant of a schedule, claimed before anything starts so that it never fires twice. */
export interface FireClaim {
  scheduledFor: string;
  claimedAt: string;
  /** Epoch seconds after which the claim may be forgotten. */
  expiresAt: number;
}

export interface ScheduleRepository {
  get(orgId: string, name: string): Promise<ScheduleRecord | null>;
  /** Creates or replaces the definition (its state is kept apart and untouched). */
  put(record: ScheduleRecord): Promise<void>;
  /** The org's schedules, newest created first. */
  list(orgId: string, page: PageRequest): Promise<Page<ScheduleRecord>>;
  /** Removes the definition, its state and its fire claims. */
  delete(orgId: string, name: string): Promise<void>;
  getState(orgId: string, name: string): Promise<ScheduleState | null>;
  /** Writes `next`, conditional on the revision it was built from (`next.stateRev - 1`; 0: none stored yet). */
  saveState(orgId: string, name: string, next: ScheduleState): Promise<void>;
  /** Claims one instant; false when it was claimed before. */
  claimFiring(orgId: string, name: string, claim: FireClaim): Promise<boolean>;
}

export interface SubscriptionRepository {
  get(orgId: string, name: string): Promise<SubscriptionRecord | null>;
  put(record: SubscriptionRecord): Promise<void>;
  /** The org's subscriptions: newest created first, or oldest first. */
  list(orgId: string, page: PageRequest, newestFirst: boolean): Promise<Page<SubscriptionRecord>>;
  delete(orgId: string, name: string): Promise<void>;
}

export interface DeliveryRepository {
  get(orgId: string, subscription: string, deliveryId: string): Promise<DeliveryRecord | null>;
  /** A subscription's deliveries, newest first. */
  list(orgId: string, subscription: string, page: PageRequest): Promise<Page<DeliveryRecord>>;
  /**
   * Writes a delivery. `unsent` also lists it for the delivery sweep (it may have no queue message); without, the
   * write takes it off that list. `expect` makes the write conditional: `absent` (a create), `attempts` (the attempt
   * count read), or either (`attempts` with `orAbsent`). Throws StaleStateError when the condition fails.
   */
  save(
    record: DeliveryRecord,
    opts: { unsent: boolean; expect?: { absent: true } | { attempts: number; orAbsent?: boolean } },
  ): Promise<void>;
  /** The deliveries listed for the sweep, oldest first (eventually consistent: re-read each before acting). */
  listUnsent(page: PageRequest): Promise<Page<DeliveryRecord>>;
}

export interface WebhookRepository {
  /** Found by id alone: callers of a hook carry no key, only a signature. */
  get(webhookId: string): Promise<WebhookRecord | null>;
  create(record: WebhookRecord): Promise<void>;
  /** A workflow's webhooks, newest first. */
  list(orgId: string, workflow: string, page: PageRequest): Promise<Page<WebhookRecord>>;
  delete(webhookId: string): Promise<void>;
}
