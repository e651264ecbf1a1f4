import { randomUUID } from "node:crypto";
import type { SQSEvent } from "aws-lambda";
import {
  makeDeliverySweepHandler,
  makeDeliveryWorkerHandler,
  makeScheduleTriggerHandler,
} from "../functions/trigger-handlers.ts";
import type { DurableList } from "../shared/adapters/embedded/durable-list.ts";
import { LocalDeliveryQueue, type QueuedMessage } from "../shared/adapters/embedded/local-delivery-queue.ts";
import { LocalScheduler, type StoredRegistration } from "../shared/adapters/embedded/local-scheduler.ts";
import type { Deps } from "../shared/deps.ts";
import type { Clock } from "../shared/domain/clock.ts";
import {
  cloneOptions,
  type DeliveryMessage,
  type TriggerAdapters,
  type TriggerOptions,
} from "../shared/ports/triggers.ts";
import type { Services } from "../shared/services.ts";
import { drainBuffered } from "../shared/triggers/schedule-firing.ts";
import { lambdaContext } from "./lambda-context.ts";
import { Late } from "./late.ts";

/** Embedded-mode tunables on top of the area's options. */
export interface LocalTriggerOptions extends TriggerOptions {
  /** How often the in-process scheduler looks at the clock. */
  schedulerTickMs: number;
  /** Delivery attempts sent at once. */
  deliveryConcurrency: number;
  /** How often the delivery sweep looks for deliveries left without a queue message (the cloud: every 2 minutes). */
  deliverySweepMs: number;
}

/** Embedded defaults: http:// and loopback receivers are allowed (a developer's own machine). */
const defaults = (): LocalTriggerOptions => ({
  ...cloneOptions(),
  allowInsecureUrls: true,
  allowPrivateUrls: true,
  schedulerTickMs: 1000,
  deliveryConcurrency: 8,
  deliverySweepMs: 60_000,
});

let overrides: Partial<Omit<LocalTriggerOptions, "delivery">> & { delivery?: Partial<TriggerOptions["delivery"]> } = {};

/**
 * Overrides the options of stacks started after this call (tests use millisecond backoff). A running stack's options
 * can also be changed in place through `localTriggers(deps).area.options`; they are read at every use.
 */
export function setLocalTriggerOptions(patch: typeof overrides): void {
  overrides = { ...overrides, ...patch, delivery: { ...overrides.delivery, ...patch.delivery } };
}

export interface LocalTriggers {
  area: TriggerAdapters;
  scheduler: LocalScheduler;
  queue: LocalDeliveryQueue;
}

const handles = new WeakMap<Deps, LocalTriggers>();

/** The embedded scheduler and delivery queue of a stack (tests call `scheduler.tick()` after moving the clock). */
export function localTriggers(deps: Deps): LocalTriggers {
  const h = handles.get(deps);
  if (!h) throw new Error("these deps are not an embedded stack's");
  return h;
}

const sqsEventOf = (message: DeliveryMessage): SQSEvent => ({
  Records: [
    {
      messageId: randomUUID(),
      receiptHandle: "",
      body: JSON.stringify(message),
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "local",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "local",
      eventSourceARN: "local",
      awsRegion: "local",
    },
  ],
});

/**
 * The embedded triggers' adapters: the in-process scheduler and delivery queue (their handlers are the cloud's,
 * built once the services exist), the delivery sweep on an interval, and the options (http:// receivers allowed).
 */
export function localTriggerAdapters(
  storage: { registrations: DurableList<StoredRegistration>; queue: DurableList<QueuedMessage> },
  clock: Clock,
  services: Late<Services>,
  log: (s: string) => void,
) {
  const base = defaults();
  const options: LocalTriggerOptions = { ...base, ...overrides, delivery: { ...base.delivery, ...overrides.delivery } };
  const scheduler = new LocalScheduler(storage.registrations, clock, {
    fire: (firing) => makeScheduleTriggerHandler(services.get())(firing, lambdaContext("schedule-trigger")),
    graceSeconds: () => options.scheduleGraceSeconds,
    tickMs: options.schedulerTickMs,
    sweep: (orgId, name) => drainBuffered(services.get().deps, orgId, name),
    log,
  });
  const deliver = new Late<ReturnType<typeof makeDeliveryWorkerHandler>>();
  const queue = new LocalDeliveryQueue(storage.queue, {
    handler: async (message) => {
      const res = await deliver.get()(sqsEventOf(message), lambdaContext("deliver"));
      if (res.batchItemFailures.length) throw new Error("the delivery worker could not handle the message");
    },
    concurrency: options.deliveryConcurrency,
    errorRetryMs: 5000,
    log,
  });
  const sweeper = intervalTask(options.deliverySweepMs, async () => {
    await makeDeliverySweepHandler(services.get())({ task: "sweep-deliveries" }, lambdaContext("deliver-sweep")).catch(
      (err: Error) => log(`delivery sweep failed: ${err.message}`),
    );
  });
  return {
    scheduler,
    queue,
    options,
    /** Starts the background parts once the services exist; `deps` finds them again for tests. */
    async start(deps: Deps): Promise<void> {
      // Attempts in flight are aborted when the queue stops; their messages stay queued for the next start.
      deliver.set(makeDeliveryWorkerHandler(services.get(), { stop: queue.stopSignal }));
      handles.set(deps, { area: deps.triggers, scheduler, queue });
      await scheduler.start();
      await queue.start();
      sweeper.start();
    },
    async stop(): Promise<void> {
      await sweeper.stop();
      await scheduler.stop();
      await queue.stop();
    },
  };
}

/** Runs `task` every `ms` (never two at once) until stopped; stop waits for a run in progress. */
function intervalTask(ms: number, task: () => Promise<void>) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  return {
    start() {
      timer = setInterval(() => {
        running ??= task().finally(() => {
          running = null;
        });
      }, ms);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
