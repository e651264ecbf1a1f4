import { createHash } from "node:crypto";
import { Aws, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { type IRole, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { ScheduleGroup } from "aws-cdk-lib/aws-scheduler";
import { Construct } from "constructs";
import { ENV } from "../../shared/config.ts";
import type { StepwiseFunction } from "../lambda-function.ts";
import { acknowledge, nagString } from "../nag.ts";
import { type EngineContext, grantStatusChanges, SMALL, serviceFunction, statusEnvironment } from "./engine-context.ts";
import { allow } from "./storage.ts";

export interface TriggersProps {
  /** The delivery worker's timeout (the delivery queue's visibility timeout is six times as long). */
  deliveryTimeout: Duration;
}

/**
 * Schedules (EventBridge Scheduler in the stack's group, firing the schedule-trigger function) and outbound webhook
 * deliveries (the worker on the delivery queue and its sweep). Inbound webhooks are routes of the HTTP API.
 */
export class Triggers extends Construct {
  readonly scheduleGroup: ScheduleGroup;
  /** Assumed by EventBridge Scheduler to invoke the schedule-trigger function, and nothing else. */
  readonly schedulerRole: Role;
  readonly scheduleTrigger: StepwiseFunction;
  readonly deliverEvents: StepwiseFunction;

  constructor(scope: Construct, id: string, ctx: EngineContext, props: TriggersProps) {
    super(scope, id);
    // At the stack's root: its generated name must stay what it was before the grouping, since replacing the group
    // would delete the users' schedules in it.
    this.scheduleGroup = new ScheduleGroup(Stack.of(this), "ScheduleGroup", { removalPolicy: RemovalPolicy.DESTROY });
    this.schedulerRole = new Role(this, "SchedulerRole", {
      assumedBy: new ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
      description: "Assumed by EventBridge Scheduler to start scheduled Stepwise runs",
    });
    this.scheduleTrigger = serviceFunction(this, "ScheduleTrigger", ctx, {
      entry: "functions/schedule-trigger.ts",
      description: "Stepwise: fires a schedule at one of its instants (invoked by EventBridge Scheduler)",
      ...SMALL,
      environment: statusEnvironment(ctx),
    });
    grantStatusChanges(ctx, this.scheduleTrigger, { endsRuns: false });
    allow(this.schedulerRole, ["lambda:InvokeFunction"], [this.scheduleTrigger.fn.functionArn]);

    // Sends webhook deliveries; it reads subscriptions and their sealed secrets and re-queues with backoff, but never
    // changes a run, so it publishes nothing.
    const queue = ctx.events.deliveryQueue;
    this.deliverEvents = serviceFunction(this, "DeliverEvents", ctx, {
      entry: "functions/deliver-events.ts",
      description: "Stepwise: delivers queued events to subscribers' webhooks",
      memorySize: 256,
      timeout: props.deliveryTimeout,
      environment: {
        [ENV.secretsKmsKeyId]: ctx.storage.secretsKey.keyArn,
        [ENV.deliveryQueueUrl]: queue.queueUrl,
      },
    });
    ctx.storage.grantUnseal(this.deliverEvents.role);
    allow(this.deliverEvents.role, ["sqs:SendMessage"], [queue.queueArn]);
    // What SqsEventSource does, under the id it gave the mapping before the grouping: SQS refuses a second mapping of
    // the same queue and function, which a renamed mapping would be while the stack updates.
    this.deliverEvents.fn.addEventSourceMapping(`SqsEventSource:${rootUniqueId(Stack.of(this), "DeliveryQueue")}`, {
      eventSourceArn: queue.queueArn,
      batchSize: 10,
      // A receiver that fails is the worker's business (it re-queues with backoff); only the messages whose
      // processing threw go back to the queue, not the whole batch.
      reportBatchItemFailures: true,
    });
    queue.grantConsumeMessages(this.deliverEvents.fn);
    // Every two minutes the same function queues the deliveries left without a queue message (a failed SendMessage):
    // one query of a sparse index when there are none. No retry: the next sweep comes soon enough.
    new Rule(this, "DeliverySweep", {
      description: "Stepwise: queues webhook deliveries whose queue message could not be sent",
      schedule: Schedule.rate(Duration.minutes(2)),
      targets: [
        new LambdaFunction(this.deliverEvents.fn, {
          event: RuleTargetInput.fromObject({ task: "sweep-deliveries" }),
          retryAttempts: 0,
        }),
      ],
    });
  }

  /** The variables of the function that creates schedules (the API). */
  get schedulingEnvironment(): Record<string, string> {
    return {
      [ENV.schedulerRoleArn]: this.schedulerRole.roleArn,
      [ENV.scheduleGroupName]: this.scheduleGroup.scheduleGroupName,
      [ENV.scheduleTargetArn]: this.scheduleTrigger.fn.functionArn,
    };
  }

  /**
   * Managing schedules in the stack's group only, and passing the scheduler role to EventBridge Scheduler (and to
   * nothing else).
   */
  grantScheduling(f: StepwiseFunction): void {
    const scheduleArns = Stack.of(this).formatArn({
      service: "scheduler",
      resource: "schedule",
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
    });
    allow(
      f.role,
      ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
      [scheduleArns],
    );
    (f.role as IRole).addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
      }),
    );
    acknowledge(f, {
      [`AwsSolutions-IAM5[Resource::${nagString(this, scheduleArns)}]`]:
        "Schedules are created by users at run time; the grant covers schedules in the stack's group only.",
    });
  }
}

/** What Names.nodeUniqueId gave a construct at the stack's root (path components joined, then an md5 prefix). */
function rootUniqueId(stack: Stack, id: string): string {
  const path = [stack.node.id, id];
  return `${path.join("")}${createHash("md5").update(path.join("/")).digest("hex").slice(0, 8).toUpperCase()}`;
}
