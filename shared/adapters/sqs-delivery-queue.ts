import { SendMessageCommand, SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import type { DeliveryMessage, DeliveryQueue } from "../ports/triggers.ts";
import type { ClientCapture } from "./aws-clients.ts";

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

/** SendMessage through the SDK's SQS client (the function's credentials, or the config given; traced by `capture`). */
export function sqsSender(
  queueUrl: string,
  config: SQSClientConfig = {},
  capture: ClientCapture = (client) => client,
): (input: SqsSendMessageInput) => Promise<void> {
  const region = /^sqs\.([a-z0-9-]+)\./.exec(new URL(queueUrl).hostname)?.[1];
  const client = capture(new SQSClient({ ...(region ? { region } : {}), ...config }));
  return async (input) => {
    await client.send(new SendMessageCommand(input));
  };
}
