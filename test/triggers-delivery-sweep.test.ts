// Outbound deliveries are never lost between a run's status change and the delivery queue: on the embedded stack,
// with a real local HTTP receiver, a delivery whose queue message could not be sent is recorded and sent by the sweep.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localTriggers, setLocalTriggerOptions } from "../local/area-triggers.ts";
import { type EmbeddedStack, startEmbedded } from "../local/embedded.ts";
import { verifyStepwiseSignature } from "../receiver.ts";
import { nowIso } from "../shared/domain/clock.ts";
import { newId } from "../shared/domain/ids.ts";
import type { DeliveryMessage, DeliveryQueue } from "../shared/triggers/area.ts";
import { MAX_SEED_BYTES, queueDelivery } from "../shared/triggers/delivery.ts";
import { sweepUnsentDeliveries, UNSENT_DELIVERY_AGE_MS } from "../shared/triggers/delivery-sweep.ts";
import { UNSENT_DELIVERIES_PK } from "../shared/triggers/keys.ts";
import { ShiftedClock } from "./support/clock.ts";
import { type JsonResponse, requestJson } from "./support/http.ts";
import { pollUntil } from "./support/poll.ts";
import { type Received, type Receiver, startReceiver } from "./support/receiver.ts";
import type { Json } from "./support/stack.ts";

const KEY = "test-platform-key-delivery-sweep-0123";
const SECRET = "subscription-secret-sweep-0123456789";
const SUB = "swept";

/**
 * Stands in for the delivery queue's transport failing (SQS SendMessage throttled, a network error, the endpoint
 * down): the embedded queue cannot fail on demand, so the test wraps it and makes chosen sends throw before anything
 * is queued, which is what the publisher sees when SendMessage fails. Every other send goes to the real queue.
 */
class FailingQueue implements DeliveryQueue {
  failures = 0;
  /** First attempts (the publisher's sends) to refuse. */
  failNext = 0;
  /** Refuse every send: the queue is down. */
  down = false;
  constructor(private readonly real: DeliveryQueue) {}
  async enqueue(message: DeliveryMessage, delayMs: number): Promise<void> {
    const publisherSend = message.ifAttempts === undefined && !message.notBefore;
    if (this.down || (publisherSend && this.failNext > 0)) {
      if (!this.down) this.failNext--;
      this.failures++;
      throw new Error("SendMessage failed (injected)");
    }
    return this.real.enqueue(message, delayMs);
  }
}

/** Wall time, moved forward by the test to make a delivery overdue for the sweep (nothing sleeps for minutes). */
const clock = new ShiftedClock();
const received: Received[] = [];
let receiver: Receiver;
let receiverUrl: string;
let dataDir: string;
let stack: EmbeddedStack;
let queue: FailingQueue;

const api = (path: string, method = "GET", body?: unknown): Promise<JsonResponse> =>
  requestJson(`${stack.url}${path}`, KEY, method, body);

async function deliveries(): Promise<Json[]> {
  return (await api(`/api/subscriptions/${SUB}/deliveries?limit=100`)).body.items;
}

async function delivery(deliveryId: string): Promise<Json | undefined> {
  return (await deliveries()).find((d) => d.deliveryId === deliveryId);
}

async function runToEnd(): Promise<string> {
  const trigger = await api("/api/workflows/quick/trigger", "POST", { parameters: {} });
  expect(trigger.status).toBe(202);
  const runId = trigger.body.runId as string;
  await pollUntil(`run ${runId} to succeed`, async () => (await api(`/api/runs/${runId}`)).body.status === "succeeded");
  return runId;
}

/** The receiver's copies of one event. */
const copiesOf = (eventId: string) => received.filter((r) => r.event.id === eventId);

/** Entries of the sweep's index (unsent deliveries). */
async function unsentIndex(): Promise<Json[]> {
  return (await stack.deps.store.queryIndex<Json>("gsi1", UNSENT_DELIVERIES_PK, { limit: 100, cursor: null })).items;
}

beforeAll(async () => {
  // The sweep runs every 100 ms here (every 2 minutes in the cloud); what makes a delivery due is its age, which the
  // test controls through the clock.
  setLocalTriggerOptions({ deliverySweepMs: 100, delivery: { baseDelayMs: 20, maxDelayMs: 200, timeoutMs: 3000 } });
  receiver = await startReceiver(received);
  receiverUrl = receiver.url;
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-sweep-"));
  stack = await startEmbedded({
    dataDir,
    port: 0,
    apiKey: KEY,
    examplesDir: null,
    clock,
    settings: { workRoot: join(dataDir, "work"), cancelPollMs: 100 },
    log: () => {},
  });
  const area = localTriggers(stack.deps).area;
  queue = new FailingQueue(area.deliveryQueue);
  area.deliveryQueue = queue;
  const wf = await api("/api/workflows/quick", "PUT", {
    name: "quick",
    nodes: [{ id: "main", type: "command", command: "echo hi" }],
  });
  expect(wf.status).toBe(201);
  const sub = await api(`/api/subscriptions/${SUB}`, "PUT", {
    url: `${receiverUrl}/ok/${SUB}`,
    events: ["run.succeeded"],
    secret: SECRET,
  });
  expect(sub.status).toBe(201);
});

afterAll(async () => {
  setLocalTriggerOptions({ deliverySweepMs: 60_000 });
  await stack?.stop();
  await receiver?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("the delivery sweep", () => {
  it("sends a delivery whose queue message failed once it is overdue, once, with the same event id", async () => {
    queue.failNext = 1;
    const runId = await runToEnd();
    // The send failed, but the delivery is recorded, unattempted, in the sweep's index.
    const pending = await pollUntil("the delivery record", async () =>
      (await deliveries()).find((d) => d.status === "pending"),
    );
    expect(queue.failures).toBe(1);
    expect(pending.attempts).toBe(0);
    expect((await unsentIndex()).map((i) => i.deliveryId)).toEqual([pending.deliveryId]);
    expect(copiesOf(pending.eventId)).toEqual([]);
    // Younger than the threshold: the sweep leaves it (its message may just be slow).
    expect(await sweepUnsentDeliveries(stack.deps)).toEqual({ found: 0, requeued: 0 });

    clock.advance(UNSENT_DELIVERY_AGE_MS + 60_000);
    const done = await pollUntil("the swept delivery to succeed", async () => {
      const d = await delivery(pending.deliveryId);
      return d?.status === "succeeded" ? d : null;
    });
    expect(done.attempts).toBe(1);
    expect(done.responseStatus).toBe(200);
    const [copy] = copiesOf(pending.eventId);
    expect(copiesOf(pending.eventId)).toHaveLength(1);
    expect(copy?.event.type).toBe("run.succeeded");
    expect(copy?.event.data.runId).toBe(runId);
    expect(copy?.headers["stepwise-event-id"]).toBe(pending.eventId);
    const check = verifyStepwiseSignature({
      secret: SECRET,
      header: copy?.headers["stepwise-signature"],
      body: copy?.body ?? "",
      nowMs: clock.nowMs(),
    });
    expect(check.valid, JSON.stringify(check)).toBe(true);

    // Out of the index: further sweeps send nothing more.
    expect(await unsentIndex()).toEqual([]);
    expect(await sweepUnsentDeliveries(stack.deps, { olderThanMs: 0 })).toEqual({ found: 0, requeued: 0 });
  });

  it("keeps an unsent delivery while the queue is down, then sends it once the queue is back", async () => {
    queue.down = true;
    await runToEnd();
    const pending = await pollUntil("the delivery record", async () =>
      (await deliveries()).find((d) => d.status === "pending"),
    );
    clock.advance(UNSENT_DELIVERY_AGE_MS + 60_000);
    // Sweeps fail while the queue is down (the interval logs them); the delivery stays in the index for the next one.
    await expect(sweepUnsentDeliveries(stack.deps)).rejects.toThrow("SendMessage failed");
    expect((await unsentIndex()).map((i) => i.deliveryId)).toEqual([pending.deliveryId]);
    queue.down = false;
    await pollUntil("the swept delivery to succeed", async () => {
      const d = await delivery(pending.deliveryId);
      return d?.status === "succeeded";
    });
    expect(copiesOf(pending.eventId)).toHaveLength(1);
    expect(await unsentIndex()).toEqual([]);
  });

  it("lets the worker write the record when the publisher died right after queuing the message", async () => {
    // What a publisher leaves when its process dies between SendMessage and the record's write: only the message,
    // which carries the delivery's content.
    const deliveryId = newId("dlv", clock.nowMs());
    const eventId = newId("evt", clock.nowMs());
    const body = JSON.stringify({
      id: eventId,
      type: "run.succeeded",
      occurredAt: nowIso(clock),
      data: { orgId: "default" },
    });
    await localTriggers(stack.deps).queue.enqueue(
      {
        orgId: "default",
        subscription: SUB,
        deliveryId,
        seed: { eventId, type: "run.succeeded", body, createdAt: nowIso(clock), redeliveryOf: null },
      },
      0,
    );
    const done = await pollUntil("the delivery to succeed", async () => {
      const d = await delivery(deliveryId);
      return d?.status === "succeeded" ? d : null;
    });
    expect(done).toMatchObject({ eventId, type: "run.succeeded", attempts: 1 });
    expect(copiesOf(eventId).map((c) => c.body)).toEqual([body]);
  });

  it("indexes an event too large to ride in the message until its first attempt", async () => {
    const eventId = newId("evt", clock.nowMs());
    const event = (pad: string) =>
      JSON.stringify({
        id: eventId,
        type: "run.succeeded",
        occurredAt: nowIso(clock),
        data: { orgId: "default", pad },
      });
    const body = event("x".repeat(MAX_SEED_BYTES));
    queue.failNext = 1;
    const rec = await queueDelivery(stack.deps, "default", SUB, { eventId, type: "run.succeeded", body });
    expect((await unsentIndex()).map((i) => i.deliveryId)).toEqual([rec.deliveryId]);
    clock.advance(UNSENT_DELIVERY_AGE_MS + 60_000);
    await pollUntil(
      "the large delivery to succeed",
      async () => (await delivery(rec.deliveryId))?.status === "succeeded",
    );
    expect(copiesOf(eventId)).toHaveLength(1);
    expect(copiesOf(eventId)[0]?.body).toBe(body);
    expect(await unsentIndex()).toEqual([]);
  });

  it("sends every other event straight away, one copy each, and never indexes it", async () => {
    const failuresBefore = queue.failures;
    const runIds = [await runToEnd(), await runToEnd()];
    // Two more than the four of the tests above.
    const items = await pollUntil("both deliveries to succeed", async () => {
      const all = await deliveries();
      return all.length === 6 && all.every((d) => d.status === "succeeded") ? all : null;
    });
    expect(received.map((r) => r.event.data.runId)).toEqual(expect.arrayContaining(runIds));
    expect(queue.failures).toBe(failuresBefore);
    expect(await unsentIndex()).toEqual([]);
    // Across the whole file: one delivery record and one received copy per event id.
    const byEvent = new Map<string, number>();
    for (const r of received) byEvent.set(r.event.id, (byEvent.get(r.event.id) ?? 0) + 1);
    expect(
      [...byEvent.values()].every((n) => n === 1),
      JSON.stringify([...byEvent]),
    ).toBe(true);
    expect(new Set(items.map((d) => d.eventId)).size).toBe(items.length);
  });
});
