// The single table's key design for every aggregate besides runs (whose keys are the run store's): each pk, sk and
// index key value, in one place. Every org-owned key starts with ORG#{orgId}#; the system lists (the retention
// sweep's, the delivery sweep's) and the embedded stand-ins are named apart.
//
//   aggregate          pk                                sk                 index (gsi: pk / sk)
//   org                ORG#{org}                         ORG
//   API key            KEY#{sha256 of the key}           KEY                gsi1 ORG#{org}#KEYS / keyId
//   workflow version   ORG#{org}#WF#{name}               V#{version, 10 digits}
//   workflow head      ORG#{org}#WF#{name}               HEAD               gsi1 ORG#{org}#WFS / listSortKey
//   by definition      ORG#{org}#WFHASH#{sha256}         WFHASH             (→ name and version)
//   idempotency claim  ORG#{org}#IDEM#{scope}#{key}      IDEM               (TTL)
//   job                ORG#{org}#JOB#{name}              JOB                gsi1 ORG#{org}#JOBS / name
//   job run            ORG#{org}#JR#{id}                 JOBRUN             gsi1 ORG#{org}#JOBRUNS / id (all, newest first)
//                                                                           gsi2 ORG#{org}#JOB#{name}#RUNS / id (by job)
//                                                                           gsi3 ORG#{org}#JOBRUNS#{status} / id
//   job run's wait     ORG#{org}#JR#{id}                 WAIT
//   schedule           ORG#{org}#SCHED#{name}            SCHED              gsi1 ORG#{org}#SCHEDS / listSortKey
//   its state          ORG#{org}#SCHED#{name}            STATE
//   its fire claims    ORG#{org}#SCHED#{name}            FIRE#{instant}     (TTL)
//   subscription       ORG#{org}#SUB#{name}              SUB                gsi1 ORG#{org}#SUBS / listSortKey
//   delivery           ORG#{org}#SUB#{name}#DLV          {deliveryId}       gsi1 DLV#UNSENT / {createdAt}#{org}#{id}
//   webhook            HOOK#{id}                         HOOK               gsi1 ORG#{org}#WF#{workflow}#HOOKS / id
//   archive marker     ORG#{org}#ARCHIVED                WF#{name}|JOB#{name}
//   retention          ORG#{org}#SETTINGS                RETENTION          gsi1 RETENTION / org
//   purged run         ORG#{org}#PURGED                  {runId}
//   run secrets        ORG#{org}#SECRETS#{runId}         {nodeId}           (TTL)
//   file use           ORG#{org}#FILE#{sha256}           {runId}#{node}#{attempt}#{role}#{path hash}
//   concurrency slots  ORG#{org}#CONC#{workflow}         SLOTS
//   concurrency queue  ORG#{org}#CONCQ#{workflow}        {runId}
//   embedded only      LOCAL#SCHEDULER, LOCAL#DELIVERY_QUEUE (stand-ins for EventBridge Scheduler's and SQS's storage)
// Runs, their tasks, audit items and waits (ORG#{org}#RUN#{runId}): see ./run-keys.ts.

export const orgPk = (orgId: string) => `ORG#${orgId}`;
export const ORG_SK = "ORG";
/** API keys are found by the hash of the key alone (a request carries nothing else). */
export const keyPk = (keyHash: string) => `KEY#${keyHash}`;
export const KEY_SK = "KEY";
export const keysIndexPk = (orgId: string) => `ORG#${orgId}#KEYS`;

const pad = (n: number): string => String(n).padStart(10, "0");
export const workflowPk = (orgId: string, name: string) => `ORG#${orgId}#WF#${name}`;
export const WORKFLOW_VERSION_PREFIX = "V#";
export const workflowVersionSk = (version: number) => `${WORKFLOW_VERSION_PREFIX}${pad(version)}`;
export const WORKFLOW_HEAD_SK = "HEAD";
export const workflowsIndexPk = (orgId: string) => `ORG#${orgId}#WFS`;
export const workflowHashPk = (orgId: string, definitionHash: string) => `ORG#${orgId}#WFHASH#${definitionHash}`;
export const WORKFLOW_HASH_SK = "WFHASH";

export const idempotencyPk = (orgId: string, scope: string, key: string) => `ORG#${orgId}#IDEM#${scope}#${key}`;
export const IDEMPOTENCY_SK = "IDEM";

export const jobPk = (orgId: string, name: string) => `ORG#${orgId}#JOB#${name}`;
export const JOB_SK = "JOB";
export const jobsIndexPk = (orgId: string) => `ORG#${orgId}#JOBS`;
export const jobRunPk = (orgId: string, jobRunId: string) => `ORG#${orgId}#JR#${jobRunId}`;
export const JOB_RUN_SK = "JOBRUN";
export const JOB_RUN_WAIT_SK = "WAIT";
export const jobRunsIndexPk = (orgId: string) => `ORG#${orgId}#JOBRUNS`;
export const jobRunsByJobIndexPk = (orgId: string, job: string) => `ORG#${orgId}#JOB#${job}#RUNS`;
export const jobRunsByStatusIndexPk = (orgId: string, status: string) => `ORG#${orgId}#JOBRUNS#${status}`;

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

export const archivePk = (orgId: string) => `ORG#${orgId}#ARCHIVED`;
export const archiveSk = (kind: "workflow" | "job", name: string) => `${kind === "workflow" ? "WF" : "JOB"}#${name}`;

export const retentionSettingsPk = (orgId: string) => `ORG#${orgId}#SETTINGS`;
export const RETENTION_SK = "RETENTION";
/** gsi1 partition of the orgs that have a retention policy, for the sweep. */
export const RETENTION_INDEX_PK = "RETENTION";
export const purgedPk = (orgId: string) => `ORG#${orgId}#PURGED`;

export const secretsPk = (orgId: string, runId: string) => `ORG#${orgId}#SECRETS#${runId}`;

/** One partition per (org, content): a lookup by hash never crosses orgs; run ids (ULIDs) sort newest last. */
export const fileUsePk = (orgId: string, sha: string) => `ORG#${orgId}#FILE#${sha}`;

export const slotsPk = (orgId: string, workflow: string) => `ORG#${orgId}#CONC#${workflow}`;
export const SLOTS_SK = "SLOTS";
export const queuePk = (orgId: string, workflow: string) => `ORG#${orgId}#CONCQ#${workflow}`;

/**
 * Embedded mode only: the in-process scheduler's registrations and the in-process delivery queue. They stand in for
 * EventBridge Scheduler's and SQS's own storage, which are not org-scoped either; no API reads them.
 */
export const LOCAL_SCHEDULER_PK = "LOCAL#SCHEDULER";
export const LOCAL_DELIVERY_QUEUE_PK = "LOCAL#DELIVERY_QUEUE";
