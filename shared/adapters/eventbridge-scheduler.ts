import { createHash } from "node:crypto";
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import type { ScheduleRegistration, Scheduler } from "../ports/triggers.ts";
import { toEventBridgeCron } from "../triggers/cron.ts";

export interface EventBridgeSchedulerConfig {
  /** The stack's schedule group (SCHEDULE_GROUP_NAME). */
  groupName: string;
  /** The role EventBridge Scheduler assumes to invoke the target (SCHEDULER_ROLE_ARN). */
  roleArn: string;
  /** The trigger function's ARN (SCHEDULE_TARGET_ARN). */
  targetArn: string;
}

/** The EventBridge schedule's name: org and schedule names hashed, since its names allow 64 characters. */
export function eventBridgeScheduleName(orgId: string, name: string): string {
  return `sw-${createHash("sha256").update(`${orgId}/${name}`).digest("hex").slice(0, 40)}`;
}

/** Each Stepwise schedule is one EventBridge Scheduler schedule that invokes the trigger function at its instants. */
export class EventBridgeScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly config: EventBridgeSchedulerConfig,
  ) {}

  async put(reg: ScheduleRegistration): Promise<void> {
    const input: CreateScheduleCommandInput = {
      Name: eventBridgeScheduleName(reg.orgId, reg.name),
      GroupName: this.config.groupName,
      Description: `stepwise ${reg.orgId}/${reg.name}`.slice(0, 512),
      ScheduleExpression: toEventBridgeCron(reg.cron),
      ScheduleExpressionTimezone: reg.timezone,
      State: reg.enabled ? "ENABLED" : "DISABLED",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: {
        Arn: this.config.targetArn,
        RoleArn: this.config.roleArn,
        // EventBridge Scheduler fills in the instant it fires for; the handler claims that instant before starting.
        Input: JSON.stringify({ orgId: reg.orgId, name: reg.name, scheduledFor: "<aws.scheduler.scheduled-time>" }),
        // EventBridge retries a failed invocation; past the catch-up window the handler drops it anyway.
        RetryPolicy: {
          MaximumEventAgeInSeconds: Math.min(86400, Math.max(60, reg.catchupWindowSeconds)),
          MaximumRetryAttempts: 10,
        },
      },
    };
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (err) {
      if (!(err instanceof ConflictException || (err as { name?: string }).name === "ConflictException")) throw err;
      await this.client.send(new UpdateScheduleCommand(input));
    }
  }

  async remove(orgId: string, name: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteScheduleCommand({ Name: eventBridgeScheduleName(orgId, name), GroupName: this.config.groupName }),
      );
    } catch (err) {
      if (
        !(err instanceof ResourceNotFoundException || (err as { name?: string }).name === "ResourceNotFoundException")
      )
        throw err;
    }
  }
}
