import { randomUUID } from "node:crypto";
import type { DeliveryMessage, DeliveryQueue } from "../../ports/triggers.ts";
import type { DurableList } from "./durable-list.ts";

export interface QueuedMessage extends DeliveryMessage {
  msgId: string;
  /** Wall-clock epoch ms (the timers are real ones, whatever clock the stack runs on). */
  dueAt: number;
}

export interface LocalDeliveryQueueOptions {
  /** Handles one message: the delivery worker (which listens to `stopSignal`). */
  handler: (message: DeliveryMessage) => Promise<unknown>;
  /** Attempts sent at once; the rest wait their turn. */
  concurrency: number;
  /** After a handler error (not a receiver error: those are retried by the worker), try again this much later. */
  errorRetryMs: number;
  log: (line: string) => void;
}

/**
 * The embedded mode's SQS: messages persist in the table until handled, so deliveries still pending when the stack
 * stops are sent after the next start; timers deliver them when due, a few at a time.
 */
export class LocalDeliveryQueue implements DeliveryQueue {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly waiting: Array<() => void> = [];
  private readonly stopController = new AbortController();
  private active = 0;
  private stopped = false;

  constructor(
    private readonly store: DurableList<QueuedMessage>,
    private readonly opts: LocalDeliveryQueueOptions,
  ) {}

  /** Aborts when the queue stops: the worker's attempts in flight listen to it. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  async enqueue(message: DeliveryMessage, delayMs: number): Promise<void> {
    const { notBefore: _n, ...plain } = message;
    const queued: QueuedMessage = { ...plain, msgId: randomUUID(), dueAt: Date.now() + Math.max(0, delayMs) };
    await this.store.put(queued.msgId, queued);
    this.arm(queued);
  }

  /** Re-arms the messages left by the last process. */
  async start(): Promise<void> {
    const found = await this.store.all();
    for (const m of found.sort((a, b) => a.dueAt - b.dueAt)) this.arm(m);
    if (found.length) this.opts.log(`delivery queue: ${found.length} pending message(s) resumed`);
  }

  /** Stops the timers and aborts attempts in flight; their messages stay queued for the next start. */
  async stop(): Promise<void> {
    // Stopped before aborting, so an aborted attempt's message is kept, not deleted as handled.
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.stopController.abort();
    for (const release of this.waiting.splice(0)) release();
    await Promise.allSettled([...this.inflight]);
  }

  private arm(m: QueuedMessage): void {
    if (this.stopped) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(m.msgId);
        const p = this.handle(m).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      },
      Math.max(0, m.dueAt - Date.now()),
    );
    timer.unref();
    this.timers.set(m.msgId, timer);
  }

  private async handle(m: QueuedMessage): Promise<void> {
    if (this.active >= this.opts.concurrency) await new Promise<void>((res) => this.waiting.push(res));
    if (this.stopped) return;
    this.active++;
    try {
      const { msgId: _id, dueAt: _due, ...message } = m;
      await this.opts.handler(message);
      if (!this.stopped) await this.store.delete(m.msgId);
    } catch (err) {
      if (this.stopped) return;
      this.opts.log(`delivery ${m.deliveryId} failed in the worker: ${(err as Error).message}`);
      const retry: QueuedMessage = { ...m, dueAt: Date.now() + this.opts.errorRetryMs };
      await this.store
        .put(m.msgId, retry)
        .then(() => this.arm(retry))
        .catch(() => {});
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
