import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SNSClient } from "@aws-sdk/client-sns";
import type { CloudConfig } from "../config.ts";
import type { Deps } from "../deps.ts";
import type { DeliveryQueue, EventPublisher, JobsAreaView, Scheduler, TriggersArea } from "./area.ts";
import { cloneOptions } from "./area.ts";
import { EventBridgePublisher } from "./eventbridge-publisher.ts";
import { EventBridgeScheduler } from "./eventbridge-scheduler.ts";
import { makeJobRunListener, makeRunListener } from "./publish.ts";
import { SnsEventPublisher } from "./sns-publisher.ts";
import { SqsDeliveryQueue, sqsSender } from "./sqs-delivery-queue.ts";

/**
 * Puts the area's services at `deps.areas.triggers` and registers its run listener (events, buffered schedule
 * firings). Every runtime whose code changes run statuses must call this: the API, the run state machine's
 * functions, the trigger and delivery functions, and the embedded server.
 */
export function wireTriggersArea(deps: Deps, area: TriggersArea): TriggersArea {
  deps.areas.triggers = area;
  deps.runListeners.push(makeRunListener(deps));
  // The jobs area may be wired after this one (areas wire in registration order, synchronously): try again once
  // the current wiring pass is over.
  if (!attachJobRunListener(deps)) queueMicrotask(() => attachJobRunListener(deps));
  return area;
}

const attached = new WeakSet<object>();

/** Adds the job-run listener to the jobs area when that area is wired (once per jobs area). */
export function attachJobRunListener(deps: Deps): boolean {
  const jobs = deps.areas.jobs as JobsAreaView | undefined;
  if (!jobs || !Array.isArray(jobs.listeners) || attached.has(jobs)) return false;
  jobs.listeners.push(makeJobRunListener(deps));
  attached.add(jobs);
  return true;
}

class Unconfigured implements Scheduler, DeliveryQueue {
  constructor(private readonly what: string) {}
  private fail(): never {
    throw new Error(`${this.what} is not configured in this function's environment`);
  }
  put = async () => this.fail();
  remove = async () => this.fail();
  enqueue = async () => this.fail();
}

/** The cloud adapters, each used when its environment variable is set. */
export function cloudTriggersArea(config: CloudConfig): TriggersArea {
  const scheduler =
    config.SCHEDULE_GROUP_NAME && config.SCHEDULER_ROLE_ARN && config.SCHEDULE_TARGET_ARN
      ? new EventBridgeScheduler(new SchedulerClient({}), {
          groupName: config.SCHEDULE_GROUP_NAME,
          roleArn: config.SCHEDULER_ROLE_ARN,
          targetArn: config.SCHEDULE_TARGET_ARN,
        })
      : new Unconfigured("EventBridge Scheduler (SCHEDULE_GROUP_NAME, SCHEDULER_ROLE_ARN, SCHEDULE_TARGET_ARN)");
  const publishers: EventPublisher[] = [];
  if (config.EVENTS_TOPIC_ARN) publishers.push(new SnsEventPublisher(new SNSClient({}), config.EVENTS_TOPIC_ARN));
  if (config.EVENT_BUS_NAME)
    publishers.push(new EventBridgePublisher(new EventBridgeClient({}), config.EVENT_BUS_NAME));
  const deliveryQueue = config.DELIVERY_QUEUE_URL
    ? new SqsDeliveryQueue(config.DELIVERY_QUEUE_URL, sqsSender(config.DELIVERY_QUEUE_URL))
    : new Unconfigured("the delivery queue (DELIVERY_QUEUE_URL)");
  // The cloud sends only to https receivers, public ones unless the deployment allows private ranges.
  const allowPrivateUrls = config.SUBSCRIPTIONS_ALLOW_PRIVATE_URLS === "true";
  return {
    scheduler,
    publishers,
    deliveryQueue,
    options: { ...cloneOptions(), allowInsecureUrls: false, allowPrivateUrls },
  };
}
