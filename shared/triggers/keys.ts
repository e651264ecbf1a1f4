/** DynamoDB keys of the triggers area's items (one table; every org-owned key starts with ORG#{orgId}#). */

export const schedulePk = (orgId: string, name: string) => `ORG#${orgId}#SCHED#${name}`;
export const SCHEDULE_SK = "SCHED";
/** Runtime state of a schedule (its last run, a buffered firing), apart from its definition. */
export const SCHEDULE_STATE_SK = "STATE";
/** One item per fired instant: claimed before starting anything, so an instant never fires twice. */
export const fireSk = (scheduledFor: string) => `FIRE#${scheduledFor}`;
export const schedulesIndexPk = (orgId: string) => `ORG#${orgId}#SCHEDS`;

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
 * Embedded mode only: the in-process scheduler's registrations and the in-process delivery queue. They stand in for
 * EventBridge Scheduler's and SQS's own storage, which are not org-scoped either; no API reads them.
 */
export const LOCAL_SCHEDULER_PK = "LOCAL#SCHEDULER";
export const LOCAL_DELIVERY_QUEUE_PK = "LOCAL#DELIVERY_QUEUE";
