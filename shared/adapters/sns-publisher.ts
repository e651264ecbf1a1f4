import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { EventPublisher, StepwiseEvent } from "../ports/triggers.ts";

/** Publishes every event to the SNS topic (EVENTS_TOPIC_ARN), with its type and org as message attributes. */
export class SnsEventPublisher implements EventPublisher {
  readonly name = "sns";
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(event: StepwiseEvent): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(event),
        // Subscribers filter on these without parsing the message.
        MessageAttributes: {
          type: { DataType: "String", StringValue: event.type },
          orgId: { DataType: "String", StringValue: event.data.orgId },
        },
      }),
    );
  }
}
