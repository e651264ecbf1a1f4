import type { Page } from "../../domain/records.ts";
import { listSortKey } from "../../domain/sort-keys.ts";
import type { PageRequest } from "../../ports/run-store.ts";
import type {
  DeliveryRepository,
  FireClaim,
  ScheduleRepository,
  SubscriptionRepository,
  WebhookRepository,
} from "../../ports/trigger-repositories.ts";
import type { ScheduleRecord, ScheduleState } from "../../triggers/schedule-records.ts";
import type { DeliveryRecord, SubscriptionRecord, WebhookRecord } from "../../triggers/trigger-records.ts";
import type { DynamoItems, Item } from "./dynamo-items.ts";
import {
  deliveriesPk,
  fireSk,
  SCHEDULE_SK,
  SCHEDULE_STATE_SK,
  SUBSCRIPTION_SK,
  schedulePk,
  schedulesIndexPk,
  subscriptionPk,
  subscriptionsIndexPk,
  UNSENT_DELIVERIES_PK,
  unsentDeliverySk,
  WEBHOOK_SK,
  webhookPk,
  webhooksIndexPk,
} from "./keys.ts";

/** Schedules, their state and fire claims on the single table (keys: ./keys.ts). */
export class DynamoScheduleRepository implements ScheduleRepository {
  constructor(private readonly items: DynamoItems) {}

  get(orgId: string, name: string): Promise<ScheduleRecord | null> {
    return this.items.get<ScheduleRecord>(schedulePk(orgId, name), SCHEDULE_SK);
  }

  async put(record: ScheduleRecord): Promise<void> {
    await this.items.put({
      pk: schedulePk(record.orgId, record.name),
      sk: SCHEDULE_SK,
      gsi1pk: schedulesIndexPk(record.orgId),
      gsi1sk: listSortKey(record.createdAt, record.name),
      ...record,
    });
  }

  list(orgId: string, page: PageRequest): Promise<Page<ScheduleRecord>> {
    return this.items.page<ScheduleRecord>("gsi1", schedulesIndexPk(orgId), page, true);
  }

  async delete(orgId: string, name: string): Promise<void> {
    const pk = schedulePk(orgId, name);
    for (const item of await this.items.all<{ scheduledFor?: string }>(null, pk))
      if (item.scheduledFor) await this.items.delete(pk, fireSk(item.scheduledFor));
    await this.items.delete(pk, SCHEDULE_STATE_SK);
    await this.items.delete(pk, SCHEDULE_SK);
  }

  getState(orgId: string, name: string): Promise<ScheduleState | null> {
    return this.items.get<ScheduleState>(schedulePk(orgId, name), SCHEDULE_STATE_SK);
  }

  async saveState(orgId: string, name: string, next: ScheduleState): Promise<void> {
    const readRev = next.stateRev - 1;
    await this.items.put(
      { pk: schedulePk(orgId, name), sk: SCHEDULE_STATE_SK, ...next },
      readRev === 0
        ? { condition: "attribute_not_exists(pk)" }
        : { condition: "stateRev = :rev", values: { ":rev": readRev } },
    );
  }

  claimFiring(orgId: string, name: string, claim: FireClaim): Promise<boolean> {
    return this.items.create({ pk: schedulePk(orgId, name), sk: fireSk(claim.scheduledFor), ...claim });
  }
}

/** Subscriptions on the single table (keys: ./keys.ts). */
export class DynamoSubscriptionRepository implements SubscriptionRepository {
  constructor(private readonly items: DynamoItems) {}

  get(orgId: string, name: string): Promise<SubscriptionRecord | null> {
    return this.items.get<SubscriptionRecord>(subscriptionPk(orgId, name), SUBSCRIPTION_SK);
  }

  async put(record: SubscriptionRecord): Promise<void> {
    await this.items.put({
      pk: subscriptionPk(record.orgId, record.name),
      sk: SUBSCRIPTION_SK,
      gsi1pk: subscriptionsIndexPk(record.orgId),
      gsi1sk: listSortKey(record.createdAt, record.name),
      ...record,
    });
  }

  list(orgId: string, page: PageRequest, newestFirst: boolean): Promise<Page<SubscriptionRecord>> {
    return this.items.page<SubscriptionRecord>("gsi1", subscriptionsIndexPk(orgId), page, newestFirst);
  }

  async delete(orgId: string, name: string): Promise<void> {
    await this.items.delete(subscriptionPk(orgId, name), SUBSCRIPTION_SK);
  }
}

/** The stored item of a delivery; `unsent` also puts it in the sweep's index (it may have no queue message). */
function deliveryItem(record: DeliveryRecord, unsent: boolean): Item {
  const item: Item = { pk: deliveriesPk(record.orgId, record.subscription), sk: record.deliveryId };
  if (unsent) {
    item.gsi1pk = UNSENT_DELIVERIES_PK;
    item.gsi1sk = unsentDeliverySk(record.createdAt, record.orgId, record.deliveryId);
  }
  return { ...item, ...record };
}

/** Deliveries on the single table, with the sweep's index of unsent ones (keys: ./keys.ts). */
export class DynamoDeliveryRepository implements DeliveryRepository {
  constructor(private readonly items: DynamoItems) {}

  get(orgId: string, subscription: string, deliveryId: string): Promise<DeliveryRecord | null> {
    return this.items.get<DeliveryRecord>(deliveriesPk(orgId, subscription), deliveryId);
  }

  list(orgId: string, subscription: string, page: PageRequest): Promise<Page<DeliveryRecord>> {
    return this.items.page<DeliveryRecord>(null, deliveriesPk(orgId, subscription), page, true);
  }

  async save(
    record: DeliveryRecord,
    opts: { unsent: boolean; expect?: { absent: true } | { attempts: number; orAbsent?: boolean } },
  ): Promise<void> {
    const expect = opts.expect;
    const cond = !expect
      ? undefined
      : "absent" in expect
        ? { condition: "attribute_not_exists(pk)" }
        : {
            condition: expect.orAbsent ? "attribute_not_exists(pk) OR attempts = :a" : "attempts = :a",
            values: { ":a": expect.attempts },
          };
    await this.items.put(deliveryItem(record, opts.unsent), cond);
  }

  listUnsent(page: PageRequest): Promise<Page<DeliveryRecord>> {
    return this.items.page<DeliveryRecord>("gsi1", UNSENT_DELIVERIES_PK, page, false);
  }
}

/** Inbound webhooks on the single table, found by id (keys: ./keys.ts). */
export class DynamoWebhookRepository implements WebhookRepository {
  constructor(private readonly items: DynamoItems) {}

  get(webhookId: string): Promise<WebhookRecord | null> {
    return this.items.get<WebhookRecord>(webhookPk(webhookId), WEBHOOK_SK);
  }

  async create(record: WebhookRecord): Promise<void> {
    await this.items.put(
      {
        pk: webhookPk(record.webhookId),
        sk: WEBHOOK_SK,
        gsi1pk: webhooksIndexPk(record.orgId, record.workflow),
        gsi1sk: record.webhookId,
        ...record,
      },
      { condition: "attribute_not_exists(pk)" },
    );
  }

  list(orgId: string, workflow: string, page: PageRequest): Promise<Page<WebhookRecord>> {
    return this.items.page<WebhookRecord>("gsi1", webhooksIndexPk(orgId, workflow), page, true);
  }

  async delete(webhookId: string): Promise<void> {
    await this.items.delete(webhookPk(webhookId), WEBHOOK_SK);
  }
}
