import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import type { HttpHandler } from "@smithy/core/protocols";
import { createTableInput } from "./dynamo-table.ts";

/**
 * Creates the table in a local DynamoDB emulator (dynalite) unless it is there already; over the given request
 * handler when there is one (the embedded mode's in-process transport), else over HTTP.
 */
export async function ensureTable(
  endpoint: string,
  table: string,
  requestHandler?: HttpHandler<Record<string, never>>,
): Promise<void> {
  const ddb = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    ...(requestHandler ? { requestHandler } : {}),
  });
  try {
    await ddb.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    await ddb.send(new CreateTableCommand(createTableInput(table)));
  }
  // A new table is CREATING for a moment (a timer in the emulator); the first write must find it ACTIVE.
  for (let i = 0; i < 200; i++) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: table }));
    if (Table?.TableStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 5));
  }
  ddb.destroy();
}

/** Creates the bucket in a local S3 emulator (s3rver) unless it is there already. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: { name?: string }) => {
    if (err.name !== "BucketAlreadyExists" && err.name !== "BucketAlreadyOwnedByYou") throw err;
  });
}
