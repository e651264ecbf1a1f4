import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CostMeter } from "../ports/metrics.ts";

export interface AwsEndpoint {
  endpoint?: string;
  region?: string;
}

const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };
// s3rver accepts only its own fixed key pair.
const s3rverCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

const WRITE_COMMANDS = new Set([
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "BatchWriteItemCommand",
  "TransactWriteItemsCommand",
]);

/** A DynamoDB document client; with an endpoint it talks to the embedded DynamoDB API. */
export function makeDocumentClient(opts: AwsEndpoint, meter?: CostMeter): DynamoDBDocumentClient {
  const client = new DynamoDBClient(
    opts.endpoint
      ? { endpoint: opts.endpoint, region: opts.region ?? "us-east-1", credentials: localCredentials, maxAttempts: 5 }
      : { region: opts.region },
  );
  if (meter) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (WRITE_COMMANDS.has(String(context.commandName))) meter.dynamoWrites++;
        return next(args);
      },
      { step: "initialize", name: "stepwiseCostMeter" },
    );
  }
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

/** An S3 client; with an endpoint it talks to the embedded S3 API (path-style). */
export function makeS3Client(opts: AwsEndpoint, meter?: CostMeter): S3Client {
  const client = new S3Client(
    opts.endpoint
      ? {
          endpoint: opts.endpoint,
          region: opts.region ?? "us-east-1",
          credentials: s3rverCredentials,
          forcePathStyle: true,
          // s3rver stores aws-chunked trailers verbatim; checksums only where S3 requires them.
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
        }
      : { region: opts.region },
  );
  if (meter) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName);
        if (name === "PutObjectCommand" || name === "UploadPartCommand" || name === "CompleteMultipartUploadCommand") {
          meter.s3Puts++;
        }
        return next(args);
      },
      { step: "initialize", name: "stepwiseCostMeter" },
    );
  }
  return client;
}
