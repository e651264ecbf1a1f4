import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Repositories } from "../../ports/repositories.ts";
import {
  DynamoIdempotencyRepository,
  DynamoKeyRepository,
  DynamoWorkflowRepository,
} from "./dynamo-access-repositories.ts";
import { DynamoItems } from "./dynamo-items.ts";
import { DynamoJobRepository } from "./dynamo-job-repository.ts";
import {
  DynamoArchiveRepository,
  DynamoConcurrencyRepository,
  DynamoFileUseRepository,
  DynamoRetentionRepository,
  DynamoRunSecretRepository,
} from "./dynamo-run-side-repositories.ts";
import {
  DynamoDeliveryRepository,
  DynamoScheduleRepository,
  DynamoSubscriptionRepository,
  DynamoWebhookRepository,
} from "./dynamo-trigger-repositories.ts";

/** Every repository on one DynamoDB table (DynamoDB in the cloud, dynalite embedded), with its item helper. */
export function dynamoRepositories(
  db: DynamoDBDocumentClient,
  table: string,
  cursorKey: Buffer,
): Repositories & { items: DynamoItems } {
  const items = new DynamoItems(db, table, cursorKey);
  return {
    items,
    keys: new DynamoKeyRepository(items),
    workflows: new DynamoWorkflowRepository(items),
    idempotency: new DynamoIdempotencyRepository(items),
    jobs: new DynamoJobRepository(items),
    schedules: new DynamoScheduleRepository(items),
    subscriptions: new DynamoSubscriptionRepository(items),
    deliveries: new DynamoDeliveryRepository(items),
    webhooks: new DynamoWebhookRepository(items),
    archive: new DynamoArchiveRepository(items),
    retention: new DynamoRetentionRepository(items),
    runSecrets: new DynamoRunSecretRepository(items),
    fileUses: new DynamoFileUseRepository(items),
    concurrency: new DynamoConcurrencyRepository(items),
  };
}
