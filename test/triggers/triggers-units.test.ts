import { execFileSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyDelivery } from "../../receiver.ts";
import { EVENT_SOURCE, EventBridgePublisher } from "../../shared/adapters/eventbridge-publisher.ts";
import { EventBridgeScheduler, eventBridgeScheduleName } from "../../shared/adapters/eventbridge-scheduler.ts";
import { SnsEventPublisher } from "../../shared/adapters/sns-publisher.ts";
import {
  SQS_MAX_DELAY_SECONDS,
  SqsDeliveryQueue,
  type SqsSendMessageInput,
  sqsSender,
} from "../../shared/adapters/sqs-delivery-queue.ts";
import { ValidationError } from "../../shared/errors.ts";
import { DEFAULT_TRIGGER_OPTIONS } from "../../shared/triggers/area.ts";
import { instantsBetween, nextInstant, parseCron, toEventBridgeCron } from "../../shared/triggers/cron.ts";
import { retryDelayMs } from "../../shared/triggers/delivery.ts";
import { EVENT_TYPES, isEventPattern, matchesEvent } from "../../shared/triggers/events.ts";
import {
  checkGithubSignature,
  checkStandardSignature,
  isStandardSecret,
  newSigningSecret,
  signedHeaders,
} from "../../shared/triggers/standard-webhooks.ts";
import type { Json } from "../support/stack.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const next = (cron: string, tz: string, after: string) => iso(nextInstant(parseCron(cron, tz), Date.parse(after)));
const series = (cron: string, tz: string, after: string, until: string) =>
  instantsBetween(parseCron(cron, tz), Date.parse(after), Date.parse(until)).map((t) => new Date(t).toISOString());

function validationOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error("expected a ValidationError");
}

describe("cron in a time zone", () => {
  it("fires weekdays at 09:00 Berlin: 08:00Z in winter, 07:00Z in summer, across the spring change", () => {
    expect(series("0 9 * * MON-FRI", "Europe/Berlin", "2026-03-26T12:00:00Z", "2026-03-31T12:00:00Z")).toEqual([
      "2026-03-27T08:00:00.000Z", // Friday, CET (UTC+1)
      "2026-03-30T07:00:00.000Z", // Monday, CEST (UTC+2): clocks went forward on Sunday the 29th
      "2026-03-31T07:00:00.000Z",
    ]);
  });

  it("fires a time skipped by spring-forward once, right after the gap", () => {
    // 02:30 does not exist in Berlin on 2026-03-29 (02:00 → 03:00): it fires at 03:00 CEST = 01:00Z.
    expect(series("30 2 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", "2026-03-30T12:00:00Z")).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
  });

  it("fires a time that occurs twice on fall-back day only once", () => {
    // 02:30 happens twice in Berlin on 2026-10-25 (03:00 CEST → 02:00 CET): only the first one fires.
    expect(series("30 2 * * *", "Europe/Berlin", "2026-10-24T00:00:00Z", "2026-10-26T12:00:00Z")).toEqual([
      "2026-10-24T00:30:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  it("fires an hourly schedule every real hour through the fall-back night", () => {
    expect(series("0 * * * *", "Europe/Berlin", "2026-10-24T23:30:00Z", "2026-10-25T02:30:00Z")).toEqual([
      "2026-10-25T00:00:00.000Z", // 02:00 CEST
      "2026-10-25T01:00:00.000Z", // 02:00 CET (the second one)
      "2026-10-25T02:00:00.000Z", // 03:00 CET
    ]);
  });

  it("follows each zone's own rules (New York changes on another date)", () => {
    expect(next("0 9 * * *", "America/New_York", "2026-03-07T15:00:00Z")).toBe("2026-03-08T13:00:00.000Z");
    expect(next("0 9 * * *", "America/New_York", "2026-03-06T15:00:00Z")).toBe("2026-03-07T14:00:00.000Z");
    expect(next("0 9 * * *", "UTC", "2026-03-07T15:00:00Z")).toBe("2026-03-08T09:00:00.000Z");
  });

  it("keeps the newest instants when asked for a few", () => {
    const all = instantsBetween(
      parseCron("* * * * *", "UTC"),
      Date.parse("2026-01-01T00:00:00Z"),
      Date.parse("2026-01-01T01:00:00Z"),
      1,
    );
    expect(all.map(iso)).toEqual(["2026-01-01T01:00:00.000Z"]);
  });

  it("rejects a bad cron or time zone with a 400 naming it", () => {
    const tz = validationOf(() => parseCron("0 9 * * *", "Mars/Olympus_Mons"));
    expect(tz.status).toBe(400);
    expect(tz.details?.[0]?.path).toBe("timezone");
    expect(tz.message).toContain("Mars/Olympus_Mons");
    for (const bad of ["61 * * * *", "* * *", "0 9 * * FOO", "@daily", "0 0 9 * * *", "0 9 1 * MON", "0 0 30 2 *"]) {
      const err = validationOf(() => parseCron(bad, "UTC"));
      expect(err.details?.[0]?.path, bad).toBe("cron");
      expect(err.message, bad).toContain(bad);
    }
  });
});

describe("EventBridge Scheduler mapping", () => {
  it("writes cron expressions in EventBridge's syntax (days 1-7 from Sunday, '?' in one day field)", () => {
    expect(toEventBridgeCron("0 9 * * MON-FRI")).toBe("cron(0 9 ? * MON,TUE,WED,THU,FRI *)");
    expect(toEventBridgeCron("0 9 * * 1-5")).toBe("cron(0 9 ? * MON,TUE,WED,THU,FRI *)");
    expect(toEventBridgeCron("30 2 * * *")).toBe("cron(30 2 * * ? *)");
    expect(toEventBridgeCron("0 0 1,15 * *")).toBe("cron(0 0 1,15 * ? *)");
    expect(toEventBridgeCron("*/15 8-18 * * 0,6")).toBe("cron(*/15 8-18 ? * SUN,SAT *)");
    expect(toEventBridgeCron("0 12 * * 5-7")).toBe("cron(0 12 ? * SUN,FRI,SAT *)");
    expect(toEventBridgeCron("0 12 * * 5L")).toBe("cron(0 12 ? * 6L *)");
    expect(toEventBridgeCron("0 12 * * 1#2")).toBe("cron(0 12 ? * 2#2 *)");
    expect(toEventBridgeCron("0 12 * * 0-6")).toBe("cron(0 12 * * ? *)");
  });

  it("creates a schedule in the group that invokes the trigger function with the instant, then updates it", async () => {
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    let exists = false;
    const client = {
      send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: cmd.constructor.name, input: cmd.input });
        if (cmd.constructor.name === "CreateScheduleCommand" && exists) {
          throw Object.assign(new Error("exists"), { name: "ConflictException" });
        }
        if (cmd.constructor.name === "CreateScheduleCommand") exists = true;
        if (cmd.constructor.name === "DeleteScheduleCommand") {
          if (!exists) throw Object.assign(new Error("gone"), { name: "ResourceNotFoundException" });
          exists = false;
        }
        return {};
      },
    };
    const scheduler = new EventBridgeScheduler(client as never, {
      groupName: "stepwise",
      roleArn: "arn:aws:iam::1:role/sched",
      targetArn: "arn:aws:lambda:eu-central-1:1:function:trigger",
    });
    const reg = {
      orgId: "acme",
      name: "nightly",
      cron: "0 9 * * MON-FRI",
      timezone: "Europe/Berlin",
      enabled: true,
      catchupWindowSeconds: 0,
    };
    await scheduler.put(reg);
    await scheduler.put({ ...reg, enabled: false });
    await scheduler.remove("acme", "nightly");
    await scheduler.remove("acme", "nightly");
    expect(sent.map((s) => s.name)).toEqual([
      "CreateScheduleCommand",
      "CreateScheduleCommand",
      "UpdateScheduleCommand",
      "DeleteScheduleCommand",
      "DeleteScheduleCommand",
    ]);
    const created = sent[0]?.input as Json;
    expect(created.Name).toBe(eventBridgeScheduleName("acme", "nightly"));
    expect(created.Name).toMatch(/^sw-[0-9a-f]{40}$/);
    expect(created.GroupName).toBe("stepwise");
    expect(created.ScheduleExpression).toBe("cron(0 9 ? * MON,TUE,WED,THU,FRI *)");
    expect(created.ScheduleExpressionTimezone).toBe("Europe/Berlin");
    expect(created.State).toBe("ENABLED");
    expect(created.Target.Arn).toContain("function:trigger");
    expect(JSON.parse(created.Target.Input)).toEqual({
      orgId: "acme",
      name: "nightly",
      scheduledFor: "<aws.scheduler.scheduled-time>",
    });
    expect(sent[2]?.input.State).toBe("DISABLED");
  });
});

describe("cloud publishers", () => {
  const event = {
    id: "evt_01JAAAAAAAAAAAAAAAAAAAAAAA",
    type: "run.failed",
    occurredAt: "2026-11-21T10:00:00.123456Z",
    data: { orgId: "acme", runId: "run_1" },
  };
  const fakeClient = (reply: unknown = {}) => {
    const inputs: Json[] = [];
    return {
      inputs,
      client: {
        send: async (cmd: { input: Json }) => {
          inputs.push(cmd.input);
          return reply;
        },
      } as never,
    };
  };

  it("put each event on the bus with source stepwise and the event type as detail-type", async () => {
    const fake = fakeClient({ FailedEntryCount: 0 });
    await new EventBridgePublisher(fake.client, "stepwise").publish(event);
    const entry = fake.inputs[0].Entries[0];
    expect(entry).toMatchObject({ EventBusName: "stepwise", Source: EVENT_SOURCE, DetailType: "run.failed" });
    expect(EVENT_SOURCE).toBe("stepwise");
    expect(JSON.parse(entry.Detail)).toEqual(event);
    expect(entry.Time.toISOString()).toBe("2026-11-21T10:00:00.123Z");
    const refused = fakeClient({ FailedEntryCount: 1, Entries: [{ ErrorCode: "AccessDenied" }] });
    await expect(new EventBridgePublisher(refused.client, "stepwise").publish(event)).rejects.toThrow(/AccessDenied/);
  });

  it("publish each event to the topic with its type and org as attributes", async () => {
    const fake = fakeClient();
    await new SnsEventPublisher(fake.client, "arn:aws:sns:eu-central-1:1:events").publish(event);
    expect(fake.inputs[0]).toMatchObject({
      TopicArn: "arn:aws:sns:eu-central-1:1:events",
      MessageAttributes: {
        type: { DataType: "String", StringValue: "run.failed" },
        orgId: { DataType: "String", StringValue: "acme" },
      },
    });
    expect(JSON.parse(fake.inputs[0].Message)).toEqual(event);
  });
});

describe("events and subscriptions' patterns", () => {
  it("knows run.<status> and job_run.<status> and matches exact, prefix and catch-all patterns", () => {
    expect(EVENT_TYPES).toContain("run.awaiting_approval");
    expect(EVENT_TYPES).toContain("run.no_action");
    expect(EVENT_TYPES).toContain("job_run.completed");
    expect(isEventPattern("run.failed")).toBe(true);
    expect(isEventPattern("*")).toBe(true);
    expect(isEventPattern("run.*")).toBe(true);
    expect(isEventPattern("run.exploded")).toBe(false);
    expect(matchesEvent(["run.failed"], "run.failed")).toBe(true);
    expect(matchesEvent(["run.failed"], "run.succeeded")).toBe(false);
    expect(matchesEvent(["run.*"], "run.succeeded")).toBe(true);
    expect(matchesEvent(["run.*"], "job_run.completed")).toBe(false);
    expect(matchesEvent(["*"], "job_run.completed")).toBe(true);
  });
});

describe("delivery retries", () => {
  it("back off exponentially with jitter: 6 attempts over about an hour by default", () => {
    const o = DEFAULT_TRIGGER_OPTIONS.delivery;
    expect(o.maxAttempts).toBeGreaterThanOrEqual(5);
    const mid = [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, o, () => 0.5));
    expect(mid).toEqual([120_000, 240_000, 480_000, 960_000, 1_920_000]);
    const totalMinutes = mid.reduce((a, b) => a + b, 0) / 60_000;
    expect(totalMinutes).toBeGreaterThan(45);
    expect(totalMinutes).toBeLessThan(75);
    expect(retryDelayMs(1, o, () => 0)).toBe(96_000);
    expect(retryDelayMs(1, o, () => 1)).toBe(144_000);
    expect(retryDelayMs(20, o, () => 0.5)).toBe(o.maxDelayMs);
  });

  it("hold long delays on SQS in 15-minute steps, carrying when the attempt is due", async () => {
    const sent: SqsSendMessageInput[] = [];
    const queue = new SqsDeliveryQueue(
      "https://sqs.eu-central-1.amazonaws.com/1/q",
      async (i) => void sent.push(i),
      () => 1_000_000,
    );
    const msg = { orgId: "o", subscription: "s", deliveryId: "dlv_01J00000000000000000000000" };
    await queue.enqueue(msg, 0);
    await queue.enqueue(msg, 240_000);
    await queue.enqueue(msg, 1_920_000);
    expect(sent.map((s) => s.DelaySeconds)).toEqual([0, 240, SQS_MAX_DELAY_SECONDS]);
    expect(JSON.parse(sent[1]?.MessageBody as string)).toEqual(msg);
    expect(JSON.parse(sent[2]?.MessageBody as string)).toEqual({ ...msg, notBefore: 1_000_000 + 1_920_000 });
  });

  it("send SQS SendMessage over the JSON protocol, SigV4-signed", async () => {
    const seen: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen.push({ headers: req.headers, body });
        // A stand-in for SQS (nothing local speaks its API): it answers like SendMessage does.
        const md5 = createHash("md5").update(JSON.parse(body).MessageBody).digest("hex");
        res
          .writeHead(200, { "content-type": "application/x-amz-json-1.0" })
          .end(JSON.stringify({ MessageId: "m-1", MD5OfMessageBody: md5 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/123456789012/deliveries`;
      const send = sqsSender(url, {
        endpoint: url.slice(0, url.indexOf("/123456789012")),
        region: "eu-central-1",
        credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token" },
      });
      await send({ QueueUrl: url, MessageBody: '{"deliveryId":"dlv_1"}', DelaySeconds: 30 });
      const [req] = seen;
      expect(req?.headers["x-amz-target"]).toBe("AmazonSQS.SendMessage");
      expect(req?.headers["content-type"]).toBe("application/x-amz-json-1.0");
      expect(req?.headers["x-amz-security-token"]).toBe("token");
      expect(req?.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-central-1\/sqs\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      expect(JSON.parse(req?.body ?? "")).toEqual({
        QueueUrl: url,
        MessageBody: '{"deliveryId":"dlv_1"}',
        DelaySeconds: 30,
      });
    } finally {
      server.close();
    }
  });
});

describe("Standard Webhooks signatures", () => {
  const secret = newSigningSecret();
  const body = JSON.stringify({ id: "evt_1", type: "run.failed", occurredAt: "x", data: { runId: "run_1" } });

  it("signs what the standardwebhooks package verifies, with webhook-id as given", () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(isStandardSecret(secret)).toBe(true);
    const headers = signedHeaders(secret, "evt_1", body, Date.now());
    expect(headers["webhook-id"]).toBe("evt_1");
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(verifyDelivery(secret, Buffer.from(body), headers)).toEqual(JSON.parse(body));
    // Another secret, another body, a stale timestamp: the library refuses each.
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow(WebhookVerificationError);
    const stale = signedHeaders(secret, "evt_1", body, Date.now() - 301_000);
    expect(() => new Webhook(secret).verify(body, stale)).toThrow(WebhookVerificationError);
  });

  it("signs with a pre-1.1 secret of another shape using its bytes, as the library's raw format expects", () => {
    for (const legacy of ["subscription-secret-0123456789", "whsec_abc-def_ghi0123456789abcdefghijklmnopqrstu"]) {
      expect(isStandardSecret(legacy)).toBe(false);
      const headers = signedHeaders(legacy, "evt_2", body, Date.now());
      expect(new Webhook(legacy, { format: "raw" }).verify(body, headers)).toEqual(JSON.parse(body));
      expect(new Webhook(`whsec_${Buffer.from(legacy).toString("base64")}`).verify(body, headers)).toBeTruthy();
      expect(verifyDelivery(legacy, body, headers)).toEqual(JSON.parse(body));
    }
  });

  it("is the package's stepwise/receiver export, compiled JavaScript a receiver imports by name", () => {
    const headers = signedHeaders(secret, "evt_3", body, Date.now());
    // A separate Node process, as a receiver's service: it resolves the name through package.json's exports.
    const script = [
      'import { verifyDelivery, WebhookVerificationError } from "stepwise/receiver";',
      "const [secret, body, headers] = JSON.parse(process.argv[1]);",
      "const event = verifyDelivery(secret, body, headers);",
      "let refused = false;",
      'try { verifyDelivery(secret, body + " ", headers); } catch (e) { refused = e instanceof WebhookVerificationError; }',
      "console.log(JSON.stringify({ event, refused }));",
    ].join("\n");
    const out = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", script, JSON.stringify([secret, body, headers])],
      {
        cwd: fileURLToPath(new URL("../..", import.meta.url)),
        encoding: "utf8",
      },
    );
    expect(JSON.parse(out)).toEqual({ event: JSON.parse(body), refused: true });
  });

  it("checks inbound Standard Webhooks calls by the injected clock: 5 minutes either way", () => {
    const now = 1_800_000_000_000;
    const raw = Buffer.from(body);
    // Signed by the library, as a sender would.
    const signature = new Webhook(secret).sign("msg_1", new Date(now), raw);
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(now / 1000), "webhook-signature": signature };
    expect(checkStandardSignature(secret, headers, raw, now + 299_000)).toEqual({ ok: true, deliveryId: "msg_1" });
    expect(
      checkStandardSignature(secret, { ...headers, "webhook-signature": `v1,bad ${signature}` }, raw, now),
    ).toEqual({ ok: true, deliveryId: "msg_1" });
    expect(checkStandardSignature(secret, headers, raw, now + 301_000).ok).toBe(false);
    expect(checkStandardSignature(secret, headers, raw, now - 301_000).ok).toBe(false);
    expect(checkStandardSignature(secret, { ...headers, "webhook-id": "msg_2" }, raw, now).ok).toBe(false);
    expect(checkStandardSignature(newSigningSecret(), headers, raw, now).ok).toBe(false);
    expect(checkStandardSignature(secret, { ...headers, "webhook-timestamp": "soon" }, raw, now).ok).toBe(false);
    expect(checkStandardSignature(secret, { "webhook-signature": signature }, raw, now).ok).toBe(false);
  });

  it("checks GitHub's X-Hub-Signature-256 keyed with the secret as written, and needs X-GitHub-Delivery", () => {
    const raw = Buffer.from(body);
    const sig = `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
    const headers = { "x-hub-signature-256": sig, "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958" };
    expect(checkGithubSignature(secret, headers, raw)).toEqual({ ok: true, deliveryId: headers["x-github-delivery"] });
    expect(checkGithubSignature(secret, { ...headers, "x-hub-signature-256": sig.toUpperCase() }, raw).ok).toBe(false);
    expect(checkGithubSignature(secret, { "x-hub-signature-256": sig }, raw).ok).toBe(false);
    expect(checkGithubSignature("whsec_other", headers, raw).ok).toBe(false);
    expect(checkGithubSignature(secret, headers, Buffer.from(`${body} `)).ok).toBe(false);
  });
});
