// Outbound deliveries are never lost between a run's status change and the delivery queue: on the embedded stack,
// with a real local HTTP receiver, a delivery whose queue message could not be sent is recorded and sent by the sweep.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context, SQSEvent } from "aws-lambda";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDeliveryWorkerHandler } from "../../functions/trigger-handlers.ts";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import { localTriggers, setLocalTriggerOptions } from "../../local/local-triggers.ts";
import { nowIso } from "../../shared/domain/clock.ts";
import { newId } from "../../shared/domain/ids.ts";
import type { DeliveryMessage, DeliveryQueue } from "../../shared/triggers/area.ts";
import { MAX_SEED_BYTES, queueDelivery } from "../../shared/triggers/delivery.ts";
import { sweepUnsentDeliveries, UNSENT_DELIVERY_AGE_MS } from "../../shared/triggers/delivery-sweep.ts";
import { ShiftedClock } from "../support/clock.ts";
import { type JsonResponse, requestJson } from "../support/http.ts";
import { pollUntil } from "../support/poll.ts";
import { type Received, type Receiver, startReceiver } from "../support/receiver.ts";
import type { Json } from "../support/stack.ts";

const KEY = "test-platform-key-delivery-sweep-0123";
const SECRET = `whsec_${Buffer.from("subscription-secret-sweep-0123456789").toString("base64")}`;
const SUB = "swept";

/**
 * Stands in for the delivery queue's transport failing (SQS SendMessage throttled, a network error, the endpoint
 * down): the embedded queue cannot fail on demand, so the test wraps it and makes chosen sends throw before anything
 * is queued, which is what the publisher sees when SendMessage fails. Every other send goes to the real queue.
 */
class FailingQueue implements DeliveryQueue {
  failures = 0;
  /** Sends for a first attempt (the publisher's) to refuse. */
  failNext = 0;
  /** Refuse every send: the queue is down. */
  down = false;
  /** Refuse the sends of retries (the worker's SendMessage failing after it recorded an attempt). */
  failRetries = false;
  /** Messages for this subscription are kept in `held`, with their delay, until `release()`: the test decides when. */
  holdFor: string | null = null;
  held: Array<{ message: DeliveryMessage; delayMs: number }> = [];
  constructor(private readonly real: DeliveryQueue) {}
  async enqueue(message: DeliveryMessage, delayMs: number): Promise<void> {
    const retry = (message.ifAttempts ?? 0) > 0;
    if (this.down || (retry && this.failRetries) || (!retry && !message.notBefore && this.failNext > 0)) {
      if (!this.down && !retry) this.failNext--;
      this.failures++;
      throw new Error("SendMessage failed (injected)");
    }
    if (message.subscription === this.holdFor) {
      this.held.push({ message, delayMs });
      return;
    }
    return this.real.enqueue(message, delayMs);
  }
  /** Queues the held messages, with the delays they were queued with. */
  async release(): Promise<void> {
    this.holdFor = null;
    for (const { message, delayMs } of this.held.splice(0)) await this.real.enqueue(message, delayMs);
  }
}

/** A second receiver whose answer the test sets (the one above always answers 200). */
let answer = 500;
const answered: Array<{ headers: IncomingMessage["headers"]; body: string; status: number }> = [];
let flaky: Server;

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
  return (await stack.deps.repos.deliveries.listUnsent({ limit: 100, cursor: null })).items;
}

beforeAll(async () => {
  // The sweep runs every 100 ms here (every 2 minutes in the cloud); what makes a delivery due is its age, which the
  // test controls through the clock.
  // Retries wait about a second: long enough that a retry queued at once would show, short enough for the test.
  setLocalTriggerOptions({ deliverySweepMs: 100, delivery: { baseDelayMs: 1000, maxDelayMs: 2000, timeoutMs: 3000 } });
  receiver = await startReceiver(received);
  flaky = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      answered.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status: answer });
      res.writeHead(answer, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", () => resolve()));
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
  flaky?.closeAllConnections();
  await new Promise<void>((resolve) => (flaky ? flaky.close(() => resolve()) : resolve()));
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
    expect(copy?.headers["webhook-id"]).toBe(pending.eventId);
    // Signed at the test's shifted clock, which Webhook.verify (real time) would call stale: the receiver library
    // recomputes the signature for the timestamp sent, and the timestamp is the shifted clock's.
    const sentAt = Number(copy?.headers["webhook-timestamp"]);
    expect(Math.abs(sentAt - clock.nowMs() / 1000)).toBeLessThan(60);
    expect(copy?.headers["webhook-signature"]).toBe(
      new Webhook(SECRET).sign(pending.eventId, new Date(sentAt * 1000), copy?.body ?? ""),
    );

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
    const body = eventBody(eventId);
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

const FLAKY_SUB = "flaky";

/** A delivery body as the publisher writes it, for a run.succeeded event of the default org. */
function eventBody(eventId: string): string {
  return JSON.stringify({ id: eventId, type: "run.succeeded", occurredAt: nowIso(clock), data: { orgId: "default" } });
}

/** Publishes a new event to the flaky receiver's subscription and takes the first message the publisher queued. */
async function firstMessage(): Promise<DeliveryMessage> {
  const eventId = newId("evt", clock.nowMs());
  const body = eventBody(eventId);
  queue.holdFor = FLAKY_SUB;
  await queueDelivery(stack.deps, "default", FLAKY_SUB, { eventId, type: "run.succeeded", body });
  const [queued, ...more] = queue.held.splice(0);
  expect(more).toEqual([]);
  expect(queued?.message).toMatchObject({ subscription: FLAKY_SUB, ifAttempts: 0, seed: { eventId } });
  return queued?.message as DeliveryMessage;
}

/** Hands one message to the delivery worker, as SQS does (each call is a new receipt of the same message). */
async function work(message: DeliveryMessage): Promise<void> {
  const worker = makeDeliveryWorkerHandler(stack.services);
  const event = { Records: [{ messageId: `m-${answered.length}`, body: JSON.stringify(message) }] } as SQSEvent;
  const res = await worker(event, { functionName: "deliver", awsRequestId: "test" } as Context);
  expect(res.batchItemFailures).toEqual([]);
}

const flakyDelivery = async (deliveryId: string): Promise<Json | undefined> =>
  (await api(`/api/subscriptions/${FLAKY_SUB}/deliveries?limit=100`)).body.items.find(
    (d: Json) => d.deliveryId === deliveryId,
  );

describe("retries", () => {
  beforeAll(async () => {
    const sub = await api(`/api/subscriptions/${FLAKY_SUB}`, "PUT", {
      url: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/${FLAKY_SUB}`,
      events: ["run.succeeded"],
      secret: SECRET,
    });
    expect(sub.status).toBe(201);
  });

  it("drop a duplicate first message that arrives after the first attempt, and keep their backoff", async () => {
    answer = 500;
    answered.length = 0;
    // The retry is held (it would be due in about a second) so that the duplicates below come after it was queued.
    const first = await firstMessage();
    await work(first);
    const failed = await flakyDelivery(first.deliveryId);
    expect(failed).toMatchObject({ status: "pending", attempts: 1, responseStatus: 500 });
    expect(answered).toHaveLength(1);
    // The retry is queued for the attempt just recorded, after the backoff.
    expect(queue.held).toHaveLength(1);
    expect(queue.held[0]?.message).toMatchObject({ deliveryId: first.deliveryId, ifAttempts: 1 });
    expect(queue.held[0]?.delayMs).toBeGreaterThan(0);
    expect(failed?.nextAttemptAt > failed?.attemptLog[0].at).toBe(true);

    // The same first message again (SQS delivers at least once; a late copy): no second attempt, no second chain.
    answer = 200;
    await work(first);
    await work(first);
    expect(answered).toHaveLength(1);
    expect(await flakyDelivery(first.deliveryId)).toEqual(failed);
    expect(queue.held).toHaveLength(1);

    // The one retry makes the second attempt, once its backoff is over.
    await queue.release();
    const done = await pollUntil("the retried delivery to succeed", async () => {
      const d = await flakyDelivery(first.deliveryId);
      return d?.status === "succeeded" ? d : null;
    });
    expect(done.attempts).toBe(2);
    expect(done.attemptLog.map((a: Json) => a.statusCode)).toEqual([500, 200]);
    expect(done.attemptLog[1].at >= (failed?.nextAttemptAt as string)).toBe(true);
    expect(answered.map((a) => a.status)).toEqual([500, 200]);
    expect(new Set(answered.map((a) => a.headers["webhook-id"]))).toEqual(new Set([first.seed?.eventId]));
    // A copy of the first message after the end changes nothing either.
    await work(first);
    expect(answered).toHaveLength(2);
  });

  it("index a retry the worker could not queue; the sweep queues it with its backoff", async () => {
    answer = 500;
    answered.length = 0;
    const first = await firstMessage();
    queue.holdFor = null;
    queue.failRetries = true;
    await work(first);
    queue.failRetries = false;
    const failed = await flakyDelivery(first.deliveryId);
    expect(failed).toMatchObject({ status: "pending", attempts: 1, responseStatus: 500 });
    // Its message is gone (the one for attempt 1 would now be dropped): the sweep's index has it.
    expect((await unsentIndex()).map((i) => i.deliveryId)).toEqual([first.deliveryId]);

    answer = 200;
    queue.holdFor = FLAKY_SUB;
    expect(await sweepUnsentDeliveries(stack.deps, { olderThanMs: 0 })).toEqual({ found: 1, requeued: 1 });
    expect(await unsentIndex()).toEqual([]);
    expect(queue.held).toHaveLength(1);
    expect(queue.held[0]?.message).toMatchObject({ deliveryId: first.deliveryId, ifAttempts: 1 });
    // Queued for when the retry was due, not at once.
    expect(queue.held[0]?.delayMs).toBeGreaterThan(0);
    await queue.release();
    const done = await pollUntil("the swept retry to succeed", async () => {
      const d = await flakyDelivery(first.deliveryId);
      return d?.status === "succeeded" ? d : null;
    });
    expect(done.attemptLog.map((a: Json) => a.statusCode)).toEqual([500, 200]);
    expect(done.attemptLog[1].at >= (failed?.nextAttemptAt as string)).toBe(true);
    expect(answered.map((a) => a.status)).toEqual([500, 200]);
  });
});
