// Each function called with the events its AWS event source sends (API Gateway v2, EventBridge Scheduler, SQS,
// EventBridge execution-status events), every AWS call against moto; what a user sees is read through the api
// function. moto records executions here without running them (several runs share one server).

import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { GetScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { INLINE_ANSWER_MAX_BYTES } from "../../shared/human-steps/large-answers.ts";
import { pollUntil } from "../support/poll.ts";
import { ACCOUNT, PLATFORM_KEY, REGION } from "./support/cloud-stack.ts";
import { type Scenario, startScenario } from "./support/scenario.ts";
import { type Json, synthesizeStack } from "./support/synth.ts";
import { requireTool } from "./support/tools.ts";

const motoServer = requireTool("moto_server");
// A scenario starts a moto_server and cold-starts the functions it needs: seconds on an idle machine, far more on a
// busy CI runner.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });
let s: Scenario;
let cfg: Json;

// A timeout past Express's five minutes keeps its runs in the Standard machine, whose executions these tests stop and
// list (shared/engine/lane.ts); the Express lane has tests of its own.
const hello = {
  name: "cloud-handlers",
  nodes: [{ id: "a", type: "command", command: "true", timeoutSeconds: 600 }],
};

async function triggerRun(): Promise<string> {
  const res = await s.api("POST", `/api/workflows/${hello.name}/trigger`, { key: PLATFORM_KEY, body: {} });
  expect(res.status, res.text).toBe(202);
  return res.body.runId as string;
}

/** A queue that receives what a topic or bus sends it (moto delivers both). */
async function listeningQueue(name: string): Promise<{ url: string; arn: string }> {
  const sqs = new SQSClient(cfg);
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return { url, arn: attrs.Attributes?.QueueArn as string };
}

async function receiveAll(url: string): Promise<Json[]> {
  const res = await new SQSClient(cfg).send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, AttributeNames: ["All"] }),
  );
  return (res.Messages ?? []) as Json[];
}

describe.skipIf(!motoServer)("the functions with AWS's events, on moto", () => {
  beforeAll(async () => {
    const { stack, template } = synthesizeStack();
    s = await startScenario(motoServer as string, stack, template, { executeStateMachines: false });
    cfg = { endpoint: s.moto.endpoint, region: REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
    const put = await s.api("PUT", `/api/workflows/${hello.name}`, { key: PLATFORM_KEY, body: hello });
    expect(put.status, put.text).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await s?.stop();
  });

  it("answers unknown paths and methods with the contract's error JSON (the $default route)", async () => {
    const unknown = await s.api("GET", "/api/no-such-thing", { key: PLATFORM_KEY });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    const wrongMethod = await s.api("PATCH", "/api/health");
    expect([404, 405]).toContain(wrongMethod.status);
    expect(typeof wrongMethod.body.error.code).toBe("string");
    const health = await s.api("GET", "/api/health");
    expect(health.body.status).toBe("ok");
  });

  it("treats the default org as existing: creating it again is 409, a new org is 201", async () => {
    const again = await s.api("POST", "/api/orgs", { key: PLATFORM_KEY, body: { orgId: "default" } });
    expect(again.status, again.text).toBe(409);
    expect(again.body.error.code).toBe("conflict");
    const created = await s.api("POST", "/api/orgs", { key: PLATFORM_KEY, body: { orgId: "acme" } });
    expect(created.status, created.text).toBe(201);
    const twice = await s.api("POST", "/api/orgs", { key: PLATFORM_KEY, body: { orgId: "acme" } });
    expect(twice.status).toBe(409);
  });

  it("creates an EventBridge schedule that fires the schedule-trigger function with the run's trigger", async () => {
    const put = await s.api("PUT", "/api/schedules/weekday-mornings", {
      key: PLATFORM_KEY,
      body: { target: { workflow: hello.name }, cron: "0 9 * * MON-FRI", timezone: "Europe/Berlin", enabled: true },
    });
    expect(put.status, put.text).toBeLessThan(300);
    const groups = Object.values(s.cloud.template.Resources as Record<string, Json>).filter(
      (r) => r.Type === "AWS::Scheduler::ScheduleGroup",
    );
    const groupName = groups[0]?.Properties.Name as string;
    const schedules = new SchedulerClient(cfg);
    const { ListSchedulesCommand } = await import("@aws-sdk/client-scheduler");
    const listed = await schedules.send(new ListSchedulesCommand({ GroupName: groupName }));
    expect(listed.Schedules).toHaveLength(1);
    const schedule = await schedules.send(
      new GetScheduleCommand({ GroupName: groupName, Name: listed.Schedules?.[0]?.Name as string }),
    );
    expect(schedule.ScheduleExpressionTimezone).toBe("Europe/Berlin");
    expect(schedule.Target?.Arn).toBe(
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${s.cloud.functionNames.scheduleTrigger}`,
    );
    // What Scheduler sends: the target's input with its placeholder filled in.
    const payload = JSON.parse(
      String(schedule.Target?.Input).replace("<aws.scheduler.scheduled-time>", "2026-12-07T08:00:00Z"),
    );
    const fired = await s.invoke("scheduleTrigger", payload);
    expect(fired.outcome).toBeDefined();
    const runs = await s.api("GET", `/api/runs?workflow=${hello.name}`, { key: PLATFORM_KEY });
    const scheduled = (runs.body.items as Json[]).filter((r) => r.trigger?.type === "schedule");
    expect(scheduled, JSON.stringify(runs.body)).toHaveLength(1);
    const executions = await new SFNClient(cfg).send(
      new ListExecutionsCommand({ stateMachineArn: s.cloud.runMachineArn }),
    );
    expect(executions.executions?.map((e) => e.name)).toContain(scheduled[0]?.runId);
  });

  it("publishes run events to the SNS topic and the stepwise bus", async () => {
    const fromTopic = await listeningQueue("from-topic");
    const fromBus = await listeningQueue("from-bus");
    await new SNSClient(cfg).send(
      new SubscribeCommand({ TopicArn: s.cloud.topicArn, Protocol: "sqs", Endpoint: fromTopic.arn }),
    );
    const events = new EventBridgeClient(cfg);
    await events.send(
      new PutRuleCommand({
        Name: "all-stepwise",
        EventBusName: s.cloud.busName,
        EventPattern: '{"source":["stepwise"]}',
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: "all-stepwise",
        EventBusName: s.cloud.busName,
        Targets: [{ Id: "q", Arn: fromBus.arn }],
      }),
    );
    const runId = await triggerRun();
    const cancel = await s.api("POST", `/api/runs/${runId}/cancel`, { key: PLATFORM_KEY, body: {} });
    expect(cancel.status, cancel.text).toBe(202);
    const topicBodies = await pollUntil("the topic's messages", async () => {
      const bodies = (await receiveAll(fromTopic.url)).map((m) => String(m.Body));
      return bodies.some((b) => b.includes(runId)) ? bodies : null;
    });
    expect(topicBodies.join("\n")).toContain("run.");
    const busBodies = await pollUntil("the bus's events", async () => {
      const bodies = (await receiveAll(fromBus.url)).map((m) => JSON.parse(String(m.Body)) as Json);
      return bodies.some((b) => JSON.stringify(b).includes(runId)) ? bodies : null;
    });
    expect(busBodies.map((b) => b.source)).toContain("stepwise");
  });

  it("reconciles a run whose execution was aborted outside the handlers (EventBridge status event)", async () => {
    const runId = await triggerRun();
    const executionArn = `${s.cloud.runMachineArn.replace(":stateMachine:", ":execution:")}:${runId}`;
    await new SFNClient(cfg).send(new StopExecutionCommand({ executionArn, cause: "operator" }));
    const result = await s.invoke("reconcileExecution", {
      version: "0",
      id: "5b8a2c1e-0000-0000-0000-000000000000",
      "detail-type": "Step Functions Execution Status Change",
      source: "aws.states",
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: REGION,
      resources: [executionArn],
      detail: {
        executionArn,
        stateMachineArn: s.cloud.runMachineArn,
        name: runId,
        status: "ABORTED",
        startDate: Date.now() - 1000,
        stopDate: Date.now(),
        input: JSON.stringify({ runId, orgId: "default" }),
        output: null,
      },
    });
    expect(result).toEqual({ changed: true });
    const run = await s.api("GET", `/api/runs/${runId}`, { key: PLATFORM_KEY });
    expect(run.body.status).toBe("failed");
    expect(run.body.error.code).toBe("execution_ended");
  });

  it("queues webhook deliveries in SQS and the worker records each attempt (SQS batch event)", async () => {
    const bad = await s.api("PUT", "/api/subscriptions/local", {
      key: PLATFORM_KEY,
      body: { url: "http://127.0.0.1:9/hook", events: ["*"] },
    });
    // The cloud sends only to public https receivers.
    expect(bad.status).toBe(400);
    const put = await s.api("PUT", "/api/subscriptions/ops", {
      key: PLATFORM_KEY,
      body: { url: "https://receiver.invalid/hook", events: ["run.cancelled"] },
    });
    expect(put.status, put.text).toBeLessThan(300);
    const queueUrl = Object.entries(s.cloud.queueUrls).find(([id]) => id.startsWith("DeliveryQueue"))?.[1] as string;
    // Drain what earlier tests queued (no subscription then, nothing to send).
    await new SQSClient(cfg).send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: {} }));
    const runId = await triggerRun();
    await s.api("POST", `/api/runs/${runId}/cancel`, { key: PLATFORM_KEY, body: {} });
    const messages = await pollUntil("a delivery message", async () => {
      const got = await receiveAll(queueUrl);
      return got.length ? got : null;
    });
    const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueUrl.split("/").pop()}`;
    const event = {
      Records: messages.map((m) => ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: m.Attributes ?? {},
        messageAttributes: {},
        md5OfBody: m.MD5OfBody,
        eventSource: "aws:sqs",
        eventSourceARN: queueArn,
        awsRegion: REGION,
      })),
    };
    const response = await s.invoke("deliverEvents", event);
    // The receiver failing is the worker's business (a retry is queued with backoff), not the batch's.
    expect(response).toEqual({ batchItemFailures: [] });
    const deliveries = await s.api("GET", "/api/subscriptions/ops/deliveries", { key: PLATFORM_KEY });
    expect(deliveries.status, deliveries.text).toBe(200);
    const items = deliveries.body.items as Json[];
    expect(items.length, deliveries.text).toBeGreaterThan(0);
    expect(JSON.stringify(items)).toContain("run.cancelled");
  });

  it("answers logs past Lambda's response limit with a redirect to them in S3 (Advance called as Step Functions does)", async () => {
    const big = {
      name: "cloud-big-log",
      // About 5.1 MB of output: more than a Lambda response may carry.
      nodes: [
        { id: "loud", type: "command", command: "yes 0123456789012345678901234567890123456789 | head -n 120000" },
      ],
    };
    expect((await s.api("PUT", `/api/workflows/${big.name}`, { key: PLATFORM_KEY, body: big })).status).toBe(201);
    const trigger = await s.api("POST", `/api/workflows/${big.name}/trigger`, { key: PLATFORM_KEY, body: {} });
    const runId = trigger.body.runId as string;
    // The Advance task's payload, as the run machine's Parameters build it.
    const out = await s.invoke("advanceRun", { runId, orgId: "default" });
    expect(out.next).toBe("done");
    const logs = await s.api("GET", `/api/runs/${runId}/logs`, { key: PLATFORM_KEY });
    expect(logs.status, logs.text.slice(0, 200)).toBe(302);
    const location = logs.headers.location as string;
    expect(location).toContain("X-Amz-Signature=");
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    const text = await fetched.text();
    expect(Buffer.byteLength(text)).toBeGreaterThan(INLINE_ANSWER_MAX_BYTES);
    expect(text.startsWith("loud | 0123456789")).toBe(true);
    // A small log is still answered directly.
    const small = await s.api("GET", `/api/runs/${runId}/logs?node=nope`, { key: PLATFORM_KEY });
    expect(small.status).toBe(404);
  });
});
