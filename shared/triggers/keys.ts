/** DynamoDB keys of the triggers area's items (one table; every org-owned key starts with ORG#{orgId}#). */

export const schedulePk = (orgId: string, name: string) => `ORG#${orgId}#SCHED#${name}`;
export const SCHEDULE_SK = "SCHED";
/** Runtime state of a schedule (its last run, a buffered firing), apart from its definition. */
export const SCHEDULE_STATE_SK = "STATE";
/** One item per fired instant: claimed before starting anything, so an instant never fires twice. */
export const fireSk = (scheduledFor: string) => `FIRE#${scheduledFor}`;
export const schedulesIndexPk = (orgId: string) => `ORG#${orgId}#SCHEDS`;
// Index sort key of schedules and subscriptions: listSortKey (shared/domain/sort-keys.ts) of their creation time.

/**
 * Webhooks are found by id alone (their callers carry no key), like API keys are found by hash; the id is a ULID
 * with 80 random bits, and every call must also carry a valid signature.
 */
export const webhookPk = (webhookId: string) => `HOOK#${webhookId}`;
export const WEBHOOK_SK = "HOOK";
export const webhooksIndexPk = (orgId: string, workflow: string) => `ORG#${orgId}#WF#${workflow}#HOOKS`;

export const subscriptionPk = (orgId: string, name: string) => `ORG#${orgId}#SUB#${name}`;
export const SUBSCRIPTION_SK = "SUB";
export const subscriptionsIndexPk = (orgId: string) => `ORG#${orgId}#SUBS`;
/** Deliveries of a subscription, sorted by their ULID (newest first when read backwards). */
export const deliveriesPk = (orgId: string, name: string) => `ORG#${orgId}#SUB#${name}#DLV`;
/**
 * gsi1 partition of the deliveries that may have no queue message (their first SendMessage failed, their event was
 * too large to ride in it, or their retry could not be queued), oldest first. A system index like the retention
 * sweep's: only the delivery sweep reads it, and the delivery's own key stays org-scoped; the next recorded attempt
 * takes the delivery out of it.
 */
export const UNSENT_DELIVERIES_PK = "DLV#UNSENT";
export const unsentDeliverySk = (createdAt: string, orgId: string, deliveryId: string) =>
  `${createdAt}#${orgId}#${deliveryId}`;

/**
 * Embedded mode only: the in-process scheduler's registrations and the in-process delivery queue. They stand in for
 * EventBridge Scheduler's and SQS's own storage, which are not org-scoped either; no API reads them.
 */
export const LOCAL_SCHEDULER_PK = "LOCAL#SCHEDULER";
export const LOCAL_DELIVERY_QUEUE_PK = "LOCAL#DELIVERY_QUEUE";
