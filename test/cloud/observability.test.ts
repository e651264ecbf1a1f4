// What an operator sees in CloudWatch from the functions, on moto: every invocation writes Powertools' JSON log lines
// carrying its run's keys and one EMF blob of the cost counters it moved (the metrics CloudWatch extracts from the
// log), and the delivery worker answers a partial batch failure with the failed message only. stdout is captured
// because that is where Lambda's log stream comes from.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ACCOUNT, PLATFORM_KEY, REGION } from "./support/cloud-stack.ts";
import { type Scenario, startScenario } from "./support/scenario.ts";
import { type Json, synthesizeStack } from "./support/synth.ts";
import { requireTool } from "./support/tools.ts";

const motoServer = requireTool("moto_server");
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });
let s: Scenario;

const hello = { name: "cloud-observed", nodes: [{ id: "a", type: "command", command: "echo hi" }] };

/** Every line a call writes to stdout and stderr, parsed where it is JSON. */
async function captured<T>(call: () => Promise<T>): Promise<{ result: T; lines: Json[] }> {
  const chunks: string[] = [];
  const keep =
    (write: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      chunks.push(String(chunk));
      return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    };
  const [stdout, stderr] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  const out = vi.spyOn(process.stdout, "write").mockImplementation(keep(stdout));
  const err = vi.spyOn(process.stderr, "write").mockImplementation(keep(stderr));
  try {
    const result = await call();
    const lines = chunks
      .join("")
      .split("\n")
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Json];
        } catch {
          return [];
        }
      });
    return { result, lines };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The EMF blobs among log lines, with the metric names each declares. */
const emfBlobs = (lines: Json[]) =>
  lines.filter((l) => l._aws?.CloudWatchMetrics).map((l) => ({ blob: l, metrics: metricNames(l) }));
const metricNames = (blob: Json): string[] =>
  (blob._aws.CloudWatchMetrics as Json[]).flatMap((d) => (d.Metrics as Json[]).map((m) => m.Name as string));

describe.skipIf(!motoServer)("what the functions log and measure, on moto", () => {
  beforeAll(async () => {
    const { stack, template } = synthesizeStack();
    s = await startScenario(motoServer as string, stack, template, { executeStateMachines: false });
    const put = await s.api("PUT", `/api/workflows/${hello.name}`, { key: PLATFORM_KEY, body: hello });
    expect(put.status, put.text).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await s?.stop();
  });

  it("an Advance call logs JSON with the run's keys and publishes its cost counters as one EMF blob", async () => {
    const trigger = await s.api("POST", `/api/workflows/${hello.name}/trigger`, { key: PLATFORM_KEY, body: {} });
    expect(trigger.status, trigger.text).toBe(202);
    const runId = trigger.body.runId as string;
    await s.handler("advanceRun"); // cold start outside the capture: only the invocation's own lines are read
    const { result, lines } = await captured(() => s.invoke("advanceRun", { runId, orgId: "default" }));
    expect(result.next).toBe("done");

    const ended = lines.find((l) => l.message === "invocation ended");
    expect(ended, JSON.stringify(lines)).toMatchObject({
      level: "INFO",
      service: "stepwise",
      runId,
      orgId: "default",
      function_name: s.cloud.functionNames.advanceRun,
    });
    expect(typeof ended?.function_request_id).toBe("string");

    const costs = emfBlobs(lines).find((b) => b.metrics.includes("LambdaCalls"));
    expect(costs, JSON.stringify(lines)).toBeDefined();
    const blob = costs?.blob as Json;
    expect(blob._aws.CloudWatchMetrics[0].Namespace).toBe("Stepwise");
    expect(blob._aws.CloudWatchMetrics[0].Dimensions).toEqual([["service"]]);
    expect(blob.service).toBe("stepwise");
    // The run's keys ride as metadata (searchable in Logs Insights), not as dimensions (a metric per run).
    expect(blob).toMatchObject({ runId, orgId: "default" });
    expect(costs?.metrics).toEqual(
      expect.arrayContaining([
        "StateTransitions",
        "LambdaCalls",
        "DynamoDBWrites",
        "DynamoDBWriteUnits",
        "S3Puts",
        "EcsRunTasks",
        "LambdaInvokes",
      ]),
    );
    // One run of one command node: Advance, Route, Done; one call; its records written (its few bytes of log stay
    // in the records: nothing is put in S3).
    expect(blob.StateTransitions).toBe(3);
    expect(blob.LambdaCalls).toBe(1);
    expect(blob.DynamoDBWrites).toBeGreaterThan(0);
    expect(blob.DynamoDBWriteUnits).toBeGreaterThanOrEqual(blob.DynamoDBWrites);
    expect(blob.S3Puts).toBe(0);
    expect(blob.EcsRunTasks).toBe(0);
  });

  it("an API request's lines carry the caller's org and the run its path names, and its status", async () => {
    const triggered = await captured(() =>
      s.api("POST", `/api/workflows/${hello.name}/trigger`, { key: PLATFORM_KEY, body: {} }),
    );
    const runId = triggered.result.body.runId as string;
    // The trigger's lines and metrics name the run it started: the run's cost includes its trigger's writes.
    expect(triggered.lines.find((l) => l.message === "invocation ended")).toMatchObject({ runId, statusCode: 202 });
    const triggerCost = emfBlobs(triggered.lines).find((b) => b.metrics.includes("DynamoDBWrites"))?.blob;
    expect(triggerCost).toMatchObject({ runId, orgId: "default" });
    expect(triggerCost?.DynamoDBWrites).toBeGreaterThan(0);
    const { result, lines } = await captured(() => s.api("GET", `/api/runs/${runId}`, { key: PLATFORM_KEY }));
    expect(result.status).toBe(200);
    expect(
      lines.find((l) => l.message === "invocation ended"),
      JSON.stringify(lines),
    ).toMatchObject({
      runId,
      orgId: "default",
      statusCode: 200,
    });
    // A refused request is answered (the contract's error JSON), not logged as a failed invocation.
    const refused = await captured(() => s.api("GET", "/api/runs/run_nope", { key: PLATFORM_KEY }));
    expect(refused.result.status).toBe(404);
    expect(refused.lines.find((l) => l.message === "invocation ended")).toMatchObject({ statusCode: 404 });
    expect(refused.lines.filter((l) => l.level === "ERROR")).toEqual([]);
    // Keys belong to one invocation: the next request, naming no run, carries none.
    const next = await captured(() => s.api("GET", "/api/workflows", { key: PLATFORM_KEY }));
    const line = next.lines.find((l) => l.message === "invocation ended");
    expect(line).toMatchObject({ orgId: "default", statusCode: 200 });
    expect(line).not.toHaveProperty("runId");
  });

  it("the delivery worker returns the failed record only, and logs why with the delivery's keys", async () => {
    const queueUrl = Object.entries(s.cloud.queueUrls).find(([id]) => id.startsWith("DeliveryQueue"))?.[1] as string;
    const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueUrl.split("/").pop()}`;
    const record = (messageId: string, body: unknown) => ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body: JSON.stringify(body),
      attributes: {},
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: queueArn,
      awsRegion: REGION,
    });
    // A delivery that is gone (nothing to send: handled), a malformed message (dropped: handled), and one whose
    // attempt cannot be recorded: its record, written from the message's seed, is past DynamoDB's 400 KB item limit,
    // an infrastructure error, so the queue must hand the message back.
    const gone = { orgId: "default", subscription: "ops", deliveryId: "dlv_01GONE" };
    const seed = {
      eventId: "evt_1",
      type: "run.succeeded",
      body: "x".repeat(500_000),
      createdAt: new Date().toISOString(),
      redeliveryOf: null,
    };
    const unreadable = { orgId: "default", subscription: "ops", deliveryId: "dlv_01UNREADABLE", seed, ifAttempts: 0 };
    const event = {
      Records: [record("m-gone", gone), record("m-malformed", { nope: true }), record("m-unreadable", unreadable)],
    };
    const { result, lines } = await captured(() => s.invoke("deliverEvents", event));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "m-unreadable" }] });
    expect(
      lines.find((l) => l.message === "delivery attempt failed"),
      JSON.stringify(lines),
    ).toMatchObject({
      level: "ERROR",
      deliveryId: "dlv_01UNREADABLE",
      messageId: "m-unreadable",
    });
    expect(lines.find((l) => l.message === "malformed delivery message dropped")).toMatchObject({
      messageId: "m-malformed",
    });
    // Every record failing is still an answer, not a thrown error: each message goes back to the queue.
    const allBad = await s.invoke("deliverEvents", { Records: [record("m-1", unreadable), record("m-2", unreadable)] });
    const returned = (allBad.batchItemFailures as Json[]).map((f) => f.itemIdentifier as string);
    expect(returned.sort()).toEqual(["m-1", "m-2"]);
  });
});
