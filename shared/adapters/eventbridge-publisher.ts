import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { EventPublisher, StepwiseEvent } from "../ports/triggers.ts";

/** The EventBridge source of every Stepwise event. */
export const EVENT_SOURCE = "stepwise";

/** Puts every event on the bus (EVENT_BUS_NAME): source `stepwise`, detail-type the event type (`run.failed`). */
export class EventBridgePublisher implements EventPublisher {
  readonly name = "eventbridge";
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(event: StepwiseEvent): Promise<void> {
    const res = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: event.type,
            Time: new Date(event.occurredAt.replace(/(\.\d{3})\d*Z$/, "$1Z")),
            Detail: JSON.stringify(event),
          },
        ],
      }),
    );
    // PutEvents reports per-entry failures in a 200 answer.
    if (res.FailedEntryCount) {
      const entry = res.Entries?.[0];
      throw new Error(`EventBridge refused the event: ${entry?.ErrorCode ?? "?"} ${entry?.ErrorMessage ?? ""}`.trim());
    }
  }
}
