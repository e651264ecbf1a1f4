import { randomUUID } from "node:crypto";
import type { SQSEvent } from "aws-lambda";
import {
  makeDeliverySweepHandler,
  makeDeliveryWorkerHandler,
  makeScheduleTriggerHandler,
} from "../functions/trigger-handlers.ts";
import type { Deps } from "../shared/deps.ts";
import { cloneOptions, type DeliveryMessage, type TriggerOptions, type TriggersArea } from "../shared/triggers/area.ts";
import { LocalDeliveryQueue } from "../shared/triggers/local-delivery-queue.ts";
import { LocalScheduler } from "../shared/triggers/local-scheduler.ts";
import { drainBuffered } from "../shared/triggers/schedules.ts";
import { attachJobRunListener, wireTriggersArea } from "../shared/triggers/wire-triggers-area.ts";
import type { LocalAreaWiring } from "./area-wiring.ts";
import { lambdaContext } from "./lambda-context.ts";

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
  area: TriggersArea;
  scheduler: LocalScheduler;
  queue: LocalDeliveryQueue;
}

const handles = new WeakMap<Deps, LocalTriggers>();

/** The embedded scheduler and delivery queue of a stack (tests call `scheduler.tick()` after moving the clock). */
export function localTriggers(deps: Deps): LocalTriggers {
  const h = handles.get(deps);
  if (!h) throw new Error("the triggers area is not wired into these deps");
  return h;
}

const sqsEventOf = (message: DeliveryMessage): SQSEvent =>
  ({
    Records: [{ messageId: randomUUID(), body: JSON.stringify(message), attributes: {}, messageAttributes: {} }],
  }) as unknown as SQSEvent;

/** Embedded-mode wiring of the triggers area: the in-process scheduler and delivery worker, and the event listener. */
export const wire: LocalAreaWiring = async (deps, ctx) => {
  const base = defaults();
  const options: LocalTriggerOptions = {
    ...base,
    ...overrides,
    delivery: { ...base.delivery, ...overrides.delivery },
  };
  const fire = makeScheduleTriggerHandler(deps);
  const scheduler = new LocalScheduler(deps.store, deps.clock, {
    fire: (firing) => fire(firing, lambdaContext("schedule-trigger")),
    graceSeconds: () => options.scheduleGraceSeconds,
    tickMs: options.schedulerTickMs,
    sweep: (orgId, name) => drainBuffered(deps, orgId, name),
    log: ctx.log,
  });
  let deliver: ReturnType<typeof makeDeliveryWorkerHandler> | null = null;
  const queue = new LocalDeliveryQueue(deps.store, {
    handler: async (message) => {
      const res = await (deliver as NonNullable<typeof deliver>)(sqsEventOf(message), lambdaContext("deliver"));
      if (res.batchItemFailures.length) throw new Error("the delivery worker could not handle the message");
    },
    concurrency: options.deliveryConcurrency,
    errorRetryMs: 5000,
    log: ctx.log,
  });
  // Attempts in flight are aborted when the queue stops; their messages stay queued for the next start.
  deliver = makeDeliveryWorkerHandler(deps, { stop: queue.stopSignal });
  const area: TriggersArea = { scheduler, publishers: [], deliveryQueue: queue, options };
  const sweep = makeDeliverySweepHandler(deps);
  const sweeper = intervalTask(options.deliverySweepMs, async () => {
    await sweep({ task: "sweep-deliveries" }, lambdaContext("deliver-sweep")).catch((err: Error) =>
      ctx.log(`delivery sweep failed: ${err.message}`),
    );
  });
  wireTriggersArea(deps, area);
  handles.set(deps, { area, scheduler, queue });
  return {
    async start() {
      // The jobs area registers its listener list during its own wiring; attach once it is there.
      attachJobRunListener(deps);
      await scheduler.start();
      await queue.start();
      sweeper.start();
    },
    async stop() {
      await sweeper.stop();
      await scheduler.stop();
      await queue.stop();
    },
  };
};

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
