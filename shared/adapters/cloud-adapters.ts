import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KMSClient } from "@aws-sdk/client-kms";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { type CloudConfig, ENGINE_VERSION } from "../config.ts";
import { systemClock } from "../domain/clock.ts";
import { cursorSigningKey } from "../kernel/signed-cursor.ts";
import type { Logger } from "../ports/logger.ts";
import { CostMeter } from "../ports/metrics.ts";
import type { DeliveryQueue, EventPublisher, Scheduler } from "../ports/triggers.ts";
import { cloneOptions } from "../ports/triggers.ts";
import type { Adapters } from "../services.ts";
import { ADVANCE_BUDGET_SECONDS } from "../state-machine/run-state-machine.ts";
import { type ClientCapture, makeDocumentClient, makeS3Client } from "./aws-clients.ts";
import { cloudExecutors } from "./cloud-executors.ts";
import { dynamoRepositories } from "./dynamo/dynamo-repositories.ts";
import { DynamoRunStore } from "./dynamo/run-store.ts";
import { EventBridgePublisher } from "./eventbridge-publisher.ts";
import { EventBridgeScheduler } from "./eventbridge-scheduler.ts";
import { KmsSecretBox } from "./kms-secret-box.ts";
import { LambdaExportWorker } from "./lambda-export-worker.ts";
import { S3BlobStore } from "./s3-blob-store.ts";
import { SfnJobRunOrchestrator } from "./sfn-job-run-orchestrator.ts";
import { SfnOrchestrator } from "./sfn-orchestrator.ts";
import { SnsEventPublisher } from "./sns-publisher.ts";
import { SqsDeliveryQueue, sqsSender } from "./sqs-delivery-queue.ts";

/**
 * A port this function's construct gives it no setting for: its schema did not require one because the function
 * never uses it, so a use means a wiring bug, reported by name.
 */
class Unconfigured implements Scheduler, DeliveryQueue {
  constructor(private readonly what: string) {}
  private fail(): never {
    throw new Error(`${this.what} is not configured in this function's environment`);
  }
  put = async () => this.fail();
  remove = async () => this.fail();
  enqueue = async () => this.fail();
}

/** The cloud's adapters for one function, from its validated configuration; `capture` traces the SDK clients. */
export function cloudAdapters(
  config: CloudConfig,
  { logger, capture = (client) => client }: { logger: Logger; capture?: ClientCapture },
): Adapters {
  const meter = new CostMeter();
  const jobArn = config.JOB_STATE_MACHINE_ARN;
  const publishers: EventPublisher[] = [];
  if (config.EVENTS_TOPIC_ARN)
    publishers.push(new SnsEventPublisher(capture(new SNSClient({})), config.EVENTS_TOPIC_ARN));
  if (config.EVENT_BUS_NAME)
    publishers.push(new EventBridgePublisher(capture(new EventBridgeClient({})), config.EVENT_BUS_NAME));
  // One Step Functions client for both machines' adapters.
  const sfn = capture(new SFNClient({}));
  const db = makeDocumentClient({ capture }, meter);
  // Without a platform key the table name still binds cursors to this deployment (and the MAC to org and list).
  const cursorKey = cursorSigningKey(config.CURSOR_SECRET ?? config.PLATFORM_KEY_HASH ?? config.TABLE_NAME);
  const store = new DynamoRunStore(db, config.TABLE_NAME, cursorKey);
  const blobs = new S3BlobStore(makeS3Client({ capture }, meter), config.BUCKET_NAME);
  return {
    store,
    repos: dynamoRepositories(db, config.TABLE_NAME, cursorKey),
    blobs,
    runOrchestrator: new SfnOrchestrator(
      sfn,
      config.RUN_STATE_MACHINE_ARN,
      config.RUN_EXPRESS_STATE_MACHINE_ARN ?? null,
    ),
    jobOrchestrator: jobArn
      ? new SfnJobRunOrchestrator(sfn, jobArn)
      : {
          startJobRun: async () => {
            throw new Error("JOB_STATE_MACHINE_ARN is not set in this function's environment");
          },
        },
    scheduler:
      config.SCHEDULE_GROUP_NAME && config.SCHEDULER_ROLE_ARN && config.SCHEDULE_TARGET_ARN
        ? new EventBridgeScheduler(capture(new SchedulerClient({})), {
            groupName: config.SCHEDULE_GROUP_NAME,
            roleArn: config.SCHEDULER_ROLE_ARN,
            targetArn: config.SCHEDULE_TARGET_ARN,
          })
        : new Unconfigured("EventBridge Scheduler (SCHEDULE_GROUP_NAME, SCHEDULER_ROLE_ARN, SCHEDULE_TARGET_ARN)"),
    publishers,
    deliveryQueue: config.DELIVERY_QUEUE_URL
      ? new SqsDeliveryQueue(config.DELIVERY_QUEUE_URL, sqsSender(config.DELIVERY_QUEUE_URL, {}, capture))
      : new Unconfigured("the delivery queue (DELIVERY_QUEUE_URL)"),
    secretBox: config.SECRETS_KMS_KEY_ID
      ? new KmsSecretBox(capture(new KMSClient({})), config.SECRETS_KMS_KEY_ID)
      : null,
    executors: cloudExecutors(config, { meter, store, blobs }),
    // Only the API starts exports; elsewhere the port keeps its in-process default, never used.
    exportWorker: config.EXPORT_FUNCTION_NAME
      ? new LambdaExportWorker(capture(new LambdaClient({})), config.EXPORT_FUNCTION_NAME)
      : undefined,
    clock: systemClock,
    meter,
    logger,
    settings: {
      engineVersion: ENGINE_VERSION,
      workRoot: config.TASK_WORK_DIR,
      platformKeyHash: config.PLATFORM_KEY_HASH ?? null,
      // Lambda stops at 15 minutes: stop starting nodes with room to record them.
      advanceBudgetMs: ADVANCE_BUDGET_SECONDS * 1000,
      cancelPollMs: 1000,
      maxHumanWaitSeconds: 365 * 86400,
    },
    // The cloud sends only to https receivers, public ones unless the deployment allows private ranges.
    triggerOptions: {
      ...cloneOptions(),
      allowInsecureUrls: false,
      allowPrivateUrls: config.SUBSCRIPTIONS_ALLOW_PRIVATE_URLS === "true",
    },
  };
}
