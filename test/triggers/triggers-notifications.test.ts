// Outbound notifications on the embedded stack, received by a real local HTTP server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLocalTriggerOptions } from "../../local/local-triggers.ts";
import { commandWorkflow, type Json, startStack, type TestStack } from "../support/stack.ts";

interface Received {
  /** The first path segment: how the receiver behaves (ok, flaky, down, hang). */
  mode: string;
  /** The second one: which subscription the test pointed there. */
  sub: string;
  headers: IncomingMessage["headers"];
  body: string;
  event: Json;
  res: ServerResponse;
}

const received: Received[] = [];
let flakyCalls = 0;
let receiver: Server;
let receiverUrl: string;
let s: TestStack;

// A Standard Webhooks secret: whsec_ + base64 of the key bytes.
const SECRET = `whsec_${Buffer.from("subscription-secret-0123456789").toString("base64")}`;

function startReceiver(): Promise<void> {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const [, mode = "", sub = ""] = (req.url ?? "/").split("/");
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ mode, sub, headers: req.headers, body, event: JSON.parse(body), res });
      if (mode === "hang") return; // never answers
      if (mode === "down") return void res.writeHead(503).end();
      if (mode === "flaky" && ++flakyCalls <= 2) return void res.writeHead(500).end("not yet");
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((resolve) =>
    receiver.listen(0, "127.0.0.1", () => {
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

const at = (sub: string) => received.filter((r) => r.sub === sub);

async function subscribe(name: string, mode: string, events: string[]): Promise<Json> {
  return s.json(`/api/subscriptions/${name}`, {
    method: "PUT",
    body: { url: `${receiverUrl}/${mode}/${name}`, events, secret: SECRET },
    expect: 201,
  });
}

async function deliveries(name: string): Promise<Json[]> {
  return (await s.json(`/api/subscriptions/${name}/deliveries?limit=100`)).items;
}

/** Waits until every delivery of a subscription has finished (succeeded or failed). */
async function settled(name: string, count: number): Promise<Json[]> {
  return s.waitFor(`${count} settled deliveries of ${name}`, async () => {
    const items = await deliveries(name);
    return items.length >= count && items.every((d) => d.status !== "pending") ? items : null;
  });
}

function expectSigned(r: Received): void {
  // The receiver is the standardwebhooks package itself, not our code; it throws unless the signature holds.
  const verified = new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>);
  expect(verified).toEqual(r.event);
  expect(r.headers["webhook-id"]).toBe(r.event.id);
  expect(r.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  expect(Math.abs(Number(r.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
  expect(r.headers["content-type"]).toBe("application/json");
  expect(Object.keys(r.event).sort()).toEqual(["data", "id", "occurredAt", "type"]);
  expect(r.event.id).toMatch(/^evt_[0-9A-Z]{26}$/);
  expect(r.event.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
}

beforeAll(async () => {
  // Millisecond backoff so that retries finish within the test; 5 attempts as in production.
  setLocalTriggerOptions({ delivery: { baseDelayMs: 20, maxDelayMs: 200, timeoutMs: 3000, maxAttempts: 5 } });
  await startReceiver();
  s = await startStack();
  await s.putWorkflow(commandWorkflow("quick", "echo hi"));
  await s.putWorkflow(commandWorkflow("breaks", "exit 3"));
});

afterAll(async () => {
  await s?.stop();
  for (const r of received) if (!r.res.writableEnded) r.res.destroy();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

describe("subscriptions", () => {
  it("are validated, admin-only, and never show a secret except one they generated, once", async () => {
    const bad = await s.api("/api/subscriptions/x", {
      method: "PUT",
      body: { url: `${receiverUrl}/ok/x`, events: ["run.failed", "run.exploded"] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("run.exploded");
    const badUrl = await s.api("/api/subscriptions/x", { method: "PUT", body: { url: "ftp://x", events: ["*"] } });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.error.details[0].path).toBe("url");
    // Secrets are Standard Webhooks secrets: whsec_<base64>.
    for (const secret of ["plain-secret-0123456789", "whsec_not*base64!", "whsec_"]) {
      const badSecret = await s.api("/api/subscriptions/x", {
        method: "PUT",
        body: { url: `${receiverUrl}/ok/x`, events: ["*"], secret },
      });
      expect(badSecret.status, secret).toBe(400);
      expect(badSecret.body.error.details[0].path).toBe("secret");
      expect(badSecret.body.error.message).toContain("whsec_");
    }
    const operator = await s.createKey("operator", "otto");
    const forbidden = await s.api("/api/subscriptions/x", {
      method: "PUT",
      body: { url: `${receiverUrl}/ok/x`, events: ["*"] },
      key: operator,
    });
    expect(forbidden.status).toBe(403);

    const generated = await s.json("/api/subscriptions/gen", {
      method: "PUT",
      body: { url: `${receiverUrl}/ok/gen`, events: ["job_run.completed"] },
      expect: 201,
    });
    expect(generated.secret).toMatch(/^whsec_/);
    const updated = await s.json("/api/subscriptions/gen", {
      method: "PUT",
      body: { url: `${receiverUrl}/ok/gen`, events: ["job_run.*"] },
      expect: 200,
    });
    expect(updated.secret).toBeUndefined();
    expect(updated.events).toEqual(["job_run.*"]);
    const list = await s.json("/api/subscriptions");
    expect(list.items.map((i: Json) => i.name)).toEqual(["gen"]);
    expect(JSON.stringify(list)).not.toContain(generated.secret);
    expect((await s.api("/api/subscriptions/gen", { method: "DELETE" })).status).toBe(204);
    expect((await s.api("/api/subscriptions/gen/deliveries")).status).toBe(404);
  });

  it("deliver one signed event per status change of a run that waits for approval and then succeeds", async () => {
    await subscribe("all", "ok", ["*"]);
    await s.putWorkflow({
      name: "approve-me",
      nodes: [
        { id: "build", type: "command", command: "echo built" },
        { id: "gate", type: "approval", needs: ["build"], approvers: { count: 1 }, timeoutSeconds: 3600 },
        { id: "ship", type: "command", needs: ["gate"], command: "echo shipped" },
      ],
    });
    const alice = await s.createKey("approver", "alice");
    const runId = await s.trigger("approve-me");
    await s.waitForRun(runId, ["awaiting_approval"]);
    const decided = await s.api(`/api/runs/${runId}/approvals/gate`, {
      method: "POST",
      body: { decision: "approve" },
      key: alice,
    });
    expect(decided.status, decided.text).toBe(200);
    expect((await s.waitForRun(runId)).status).toBe("succeeded");

    const expected = ["queued", "running", "awaiting_approval", "running", "succeeded"];
    const mine = await s.waitFor("every event of the run", async () => {
      const got = at("all").filter((r) => r.event.data.runId === runId);
      return got.length >= expected.length ? got : null;
    });
    expect(mine).toHaveLength(expected.length);
    const byTime = [...mine].sort((a, b) => a.event.occurredAt.localeCompare(b.event.occurredAt));
    expect(byTime.map((r) => r.event.type)).toEqual(expected.map((st) => `run.${st}`));
    expect(byTime.map((r) => r.event.data.previousStatus)).toEqual([null, ...expected.slice(0, -1)]);
    expect(new Set(mine.map((r) => r.event.id)).size).toBe(expected.length);
    for (const r of mine) {
      expectSigned(r);
      expect(r.event.data).toMatchObject({ orgId: "default", runId, workflow: { name: "approve-me" } });
    }
    const list = await settled("all", expected.length);
    const ofRun = list.filter((d) => mine.some((r) => r.event.id === d.eventId));
    expect(ofRun).toHaveLength(expected.length);
    for (const d of ofRun) {
      expect(d).toMatchObject({ status: "succeeded", attempts: 1, responseStatus: 200 });
      expect(d.deliveryId).toMatch(/^dlv_/);
      expect(d.attemptLog).toHaveLength(1);
      expect(typeof d.attemptLog[0].durationMs).toBe("number");
    }
    expect((await s.api("/api/subscriptions/all", { method: "DELETE" })).status).toBe(204);
  });

  it("deliver one event per job-run status change", async () => {
    await subscribe("jobs", "ok", ["job_run.*"]);
    await s.json("/api/jobs/pair", {
      method: "PUT",
      body: { workflowExecutionOrder: ["quick", "quick"] },
      expect: 201,
    });
    const { jobRunId } = await s.json("/api/jobs/pair/runs", { method: "POST", body: {}, expect: 202 });
    const events = await s.waitFor("the job run's events", async () => {
      const got = at("jobs").filter((r) => r.event.data.jobRunId === jobRunId);
      return got.some((r) => r.event.type === "job_run.completed") ? got : null;
    });
    const byTime = [...events].sort((a, b) => a.event.occurredAt.localeCompare(b.event.occurredAt));
    expect(byTime.map((r) => r.event.type)).toEqual(["job_run.pending", "job_run.in_progress", "job_run.completed"]);
    for (const r of events) {
      expectSigned(r);
      expect(r.event.data).toMatchObject({ orgId: "default", jobRunId, job: "pair" });
    }
    // Only job-run events: the job's workflow runs produced none here.
    await settled("jobs", 3);
    expect(at("jobs").every((r) => r.event.type.startsWith("job_run."))).toBe(true);
    expect((await s.api("/api/subscriptions/jobs", { method: "DELETE" })).status).toBe(204);
  });

  it("send only the event types a subscription asks for", async () => {
    await subscribe("failures", "ok", ["run.failed"]);
    const good = await s.trigger("quick");
    await s.waitForRun(good);
    const badRun = await s.trigger("breaks");
    expect((await s.waitForRun(badRun)).status).toBe("failed");
    const [only] = await s.waitFor("the failure's delivery", async () =>
      at("failures").length ? at("failures") : null,
    );
    expect(only?.event.type).toBe("run.failed");
    expect(only?.event.data.runId).toBe(badRun);
    expectSigned(only as Received);
    const list = await settled("failures", 1);
    expect(list.map((d) => d.type)).toEqual(["run.failed"]);
    expect((await s.api("/api/subscriptions/failures", { method: "DELETE" })).status).toBe(204);
  });

  it("retry a receiver that fails twice with backoff, then succeed; redelivery sends the same event id", async () => {
    await subscribe("flaky", "flaky", ["run.succeeded"]);
    const runId = await s.trigger("quick");
    await s.waitForRun(runId);
    const [delivery] = await settled("flaky", 1);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 3, responseStatus: 200, type: "run.succeeded" });
    expect(delivery.attemptLog.map((a: Json) => a.statusCode)).toEqual([500, 500, 200]);
    expect(delivery.attemptLog.map((a: Json) => a.attempt)).toEqual([1, 2, 3]);
    const calls = at("flaky");
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.headers["webhook-id"]))).toEqual(new Set([delivery.eventId]));
    for (const c of calls) expectSigned(c);

    const again = await s.json(`/api/subscriptions/flaky/deliveries/${delivery.deliveryId}/redeliver`, {
      method: "POST",
      body: {},
      expect: 202,
    });
    expect(again.deliveryId).not.toBe(delivery.deliveryId);
    expect(again).toMatchObject({ eventId: delivery.eventId, redeliveryOf: delivery.deliveryId });
    const both = await settled("flaky", 2);
    expect(both[0]).toMatchObject({ deliveryId: again.deliveryId, status: "succeeded", attempts: 1 });
    await s.waitFor("the redelivered request", async () => at("flaky").length === 4);
    const last = at("flaky")[3] as Received;
    expect(last.headers["webhook-id"]).toBe(delivery.eventId);
    expect(last.body).toBe(calls[0]?.body);
    expectSigned(last);
    const missing = await s.api("/api/subscriptions/flaky/deliveries/dlv_01JAAAAAAAAAAAAAAAAAAAAAAA/redeliver", {
      method: "POST",
      body: {},
    });
    expect(missing.status).toBe(404);
    expect((await s.api("/api/subscriptions/flaky", { method: "DELETE" })).status).toBe(204);
  });

  it("mark a delivery failed after its last attempt", async () => {
    await subscribe("down", "down", ["run.succeeded"]);
    await s.waitForRun(await s.trigger("quick"));
    const [delivery] = await settled("down", 1);
    expect(delivery).toMatchObject({ status: "failed", attempts: 5, responseStatus: 503 });
    expect(delivery.lastError).toContain("503");
    expect(delivery.attemptLog.map((a: Json) => a.statusCode)).toEqual([503, 503, 503, 503, 503]);
    expect(delivery.completedAt).not.toBeNull();
    expect((await s.api("/api/subscriptions/down", { method: "DELETE" })).status).toBe(204);
  });

  it("never let a receiver that hangs slow a run down", async () => {
    await subscribe("hang", "hang", ["*"]);
    const runId = await s.trigger("quick");
    // The receiver holds the run's first event (run.queued) open and never answers…
    const first = await s.waitFor("the hanging receiver to be called", async () => at("hang")[0]);
    expect(first.event.type).toBe("run.queued");
    // …and the run still goes to its end meanwhile.
    expect((await s.waitForRun(runId)).status).toBe("succeeded");
    expect(first.res.writableEnded).toBe(false);
    const pending = await deliveries("hang");
    expect(pending.some((d) => d.status === "pending")).toBe(true);
    expect((await s.api("/api/subscriptions/hang", { method: "DELETE" })).status).toBe(204);
  });
});
