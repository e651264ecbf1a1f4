import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { HttpHandler } from "@smithy/core/protocols";
import type { MiddlewareStack } from "@smithy/types";
import type { CostMeter } from "../ports/metrics.ts";

export interface AwsEndpoint {
  endpoint?: string;
  region?: string;
  /** Wraps the client for tracing (Powertools Tracer's captureAWSv3Client in the cloud). */
  capture?: ClientCapture;
  /** How requests reach the endpoint: the SDK's HTTP handler unless given (the embedded mode's in-process one). */
  requestHandler?: HttpHandler<Record<string, never>>;
}

/** A hook around every call of a client: the command's name, the serialized request (after build), a continuation. */
export type CallHook = <T>(call: { command: string; request?: unknown }, next: () => Promise<T>) => Promise<T>;

/** What a benchmark or profiler hooks on an SDK client (bench/profile.ts, bench/write-units.ts). */
export interface InstrumentableClient {
  addHook(step: "initialize" | "build" | "deserialize", name: string, hook: CallHook, priority?: "high" | "low"): void;
}

/** Hooks on a client's middleware stack, at the step named. */
export function instrumentable<I extends object, O extends object>(client: {
  middlewareStack: MiddlewareStack<I, O>;
}): InstrumentableClient {
  return {
    addHook(step, name, hook, priority) {
      const stack = client.middlewareStack;
      const command = (context: { commandName?: string }) => String(context.commandName);
      if (step === "initialize")
        stack.add((next, context) => (args) => hook({ command: command(context) }, () => next(args)), {
          step,
          name,
          priority,
        });
      else if (step === "build")
        stack.add(
          (next, context) => (args) => hook({ command: command(context), request: args.request }, () => next(args)),
          { step, name, priority },
        );
      else
        stack.add(
          (next, context) => (args) => hook({ command: command(context), request: args.request }, () => next(args)),
          { step, name, priority },
        );
    },
  };
}

/** Instruments an SDK client in place and returns it (X-Ray subsegments per call in the cloud). */
export type ClientCapture = <T>(client: T) => T;

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
      ? {
          endpoint: opts.endpoint,
          region: opts.region ?? "us-east-1",
          credentials: localCredentials,
          maxAttempts: 5,
          ...(opts.requestHandler ? { requestHandler: opts.requestHandler } : {}),
        }
      : { region: opts.region },
  );
  if (meter) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!WRITE_COMMANDS.has(String(context.commandName))) return next(args);
        meter.dynamoWrites++;
        // DynamoDB reports the units it bills for each write when asked (no extra cost, a few bytes per answer).
        const input = { ReturnConsumedCapacity: "TOTAL", ...(args.input as object) };
        try {
          const result = await next({ ...args, input });
          meter.dynamoWriteUnits += writeUnitsOf((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
          return result;
        } catch (err) {
          // A write refused by its condition is billed too (at least one unit), and reports nothing.
          if (/ConditionalCheckFailed|TransactionCanceled/.test((err as Error).name)) meter.dynamoWriteUnits++;
          throw err;
        }
      },
      { step: "initialize", name: "stepwiseCostMeter" },
    );
  }
  opts.capture?.(client);
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
          ...(opts.requestHandler ? { requestHandler: opts.requestHandler } : {}),
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
  return opts.capture ? opts.capture(client) : client;
}

/** The write units in a ConsumedCapacity answer: one object (single writes) or one per table (batches). */
function writeUnitsOf(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((n: number, c: { CapacityUnits?: number; WriteCapacityUnits?: number }) => {
    return n + (c.WriteCapacityUnits ?? c.CapacityUnits ?? 0);
  }, 0);
}
