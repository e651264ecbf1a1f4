import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { DeliveryMessage, DeliveryQueue } from "./area.ts";

/** SQS holds a message back at most 15 minutes; longer backoffs are re-queued by the worker (`notBefore`). */
export const SQS_MAX_DELAY_SECONDS = 900;

export interface SqsSendMessageInput {
  QueueUrl: string;
  MessageBody: string;
  DelaySeconds: number;
}

/** Queues delivery attempts on the delivery queue (DELIVERY_QUEUE_URL), consumed by the delivery worker function. */
export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly send: (input: SqsSendMessageInput) => Promise<void>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async enqueue(message: DeliveryMessage, delayMs: number): Promise<void> {
    const delaySeconds = Math.max(0, Math.ceil(delayMs / 1000));
    const body: DeliveryMessage =
      delaySeconds > SQS_MAX_DELAY_SECONDS ? { ...message, notBefore: this.nowMs() + delayMs } : message;
    await this.send({
      QueueUrl: this.queueUrl,
      MessageBody: JSON.stringify(body),
      DelaySeconds: Math.min(delaySeconds, SQS_MAX_DELAY_SECONDS),
    });
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === "string"
    ? d
    : d instanceof ArrayBuffer
      ? new Uint8Array(d)
      : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** sha256 (or HMAC-sha256 with a secret) in the shape the SigV4 signer expects. */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret?: string | Uint8Array;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.hash = this.secret ? createHmac("sha256", this.secret) : createHash("sha256");
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.secret ? createHmac("sha256", this.secret) : createHash("sha256");
  }
}

/**
 * SendMessage over SQS's JSON protocol, signed with SigV4 and the function's credentials. The project has no
 * @aws-sdk/client-sqs; with it installed this is `client.send(new SendMessageCommand(input))`.
 */
export function sigV4SqsSender(
  queueUrl: string,
  opts: { region?: string; credentials?: AwsCredentialIdentity } = {},
): (input: SqsSendMessageInput) => Promise<void> {
  const url = new URL(queueUrl);
  const region = opts.region ?? /^sqs\.([a-z0-9-]+)\./.exec(url.hostname)?.[1] ?? "us-east-1";
  const signer = new SignatureV4({
    credentials: opts.credentials ?? defaultProvider(),
    region,
    service: "sqs",
    sha256: NodeSha256,
  });
  return async (input) => {
    const body = JSON.stringify(input);
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: "/",
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AmazonSQS.SendMessage",
      },
      body,
    });
    // fetch sets Host itself (to the same value that was signed).
    const { host: _host, ...headers } = signed.headers;
    const res = await fetch(`${url.protocol}//${url.host}/`, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`SQS SendMessage failed: ${res.status} ${(await res.text()).slice(0, 300)}`);
  };
}
