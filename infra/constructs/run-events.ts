import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { EventBus } from "aws-cdk-lib/aws-events";
import type { IRole } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { Topic } from "aws-cdk-lib/aws-sns";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { ENV } from "../../shared/config.ts";
import { allow } from "./storage.ts";

export interface RunEventsProps {
  /** Name of the EventBridge bus (unique per account and region). */
  eventBusName: string;
  /** How long the delivery worker may take; the queue hides a received message six times as long (AWS's advice). */
  deliveryTimeout: Duration;
}

/**
 * Where every run and job-run status change goes: the SNS topic, the `stepwise` EventBridge bus and the queue of
 * outbound webhook deliveries (consumed by the triggers' delivery worker).
 */
export class RunEvents extends Construct {
  readonly eventsKey: Key;
  readonly topic: Topic;
  readonly bus: EventBus;
  readonly deliveryQueue: Queue;
  readonly deliveryDeadLetters: Queue;

  constructor(scope: Construct, id: string, props: RunEventsProps) {
    super(scope, id);
    this.eventsKey = new Key(this, "EventsKey", {
      description: "Stepwise: run and job-run event topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.topic = new Topic(this, "EventsTopic", {
      displayName: "Stepwise run events",
      masterKey: this.eventsKey,
      enforceSSL: true,
    });
    // A bus of its own rather than the default one, so that PutEvents is granted on one bus and consumers' rules see
    // only Stepwise events.
    this.bus = new EventBus(this, "EventBus", { eventBusName: props.eventBusName });

    this.deliveryDeadLetters = new Queue(this, "DeliveryDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // A message stays hidden six times the worker's timeout, so that a batch retried by Lambda is never handed to a
    // second worker meanwhile.
    this.deliveryQueue = new Queue(this, "DeliveryQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * props.deliveryTimeout.toSeconds()),
      deadLetterQueue: { queue: this.deliveryDeadLetters, maxReceiveCount: 5 },
    });
  }

  /** The variables of a function that publishes status changes. */
  get environment(): Record<string, string> {
    return {
      [ENV.eventsTopicArn]: this.topic.topicArn,
      [ENV.eventBusName]: this.bus.eventBusName,
      [ENV.deliveryQueueUrl]: this.deliveryQueue.queueUrl,
    };
  }

  /** Publishing: the topic (and its key, for SNS to encrypt on the caller's behalf), the bus, the delivery queue. */
  grantPublish(role: IRole): void {
    allow(role, ["sns:Publish"], [this.topic.topicArn]);
    allow(role, ["kms:GenerateDataKey", "kms:Decrypt"], [this.eventsKey.keyArn]);
    allow(role, ["events:PutEvents"], [this.bus.eventBusArn]);
    allow(role, ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], [this.deliveryQueue.queueArn]);
  }
}
