// What an operator sees in X-Ray from a function with active tracing: the handler's subsegment, annotated with the
// service and cold start, and one subsegment per AWS call made through the cloud's clients. The X-Ray daemon is a
// UDP socket here (what the Lambda runtime runs beside each function); the invocation runs in a child process with
// the Lambda runtime's tracing environment, its DynamoDB call against dynalite.
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

interface Segment {
  name: string;
  id: string;
  trace_id: string;
  parent_id?: string;
  annotations?: Record<string, unknown>;
  aws?: Record<string, unknown>;
  namespace?: string;
  subsegments?: Segment[];
}

/** Every (sub)segment in what the daemon received, nested ones included. */
const flatten = (segments: Segment[]): Segment[] => segments.flatMap((s) => [s, ...flatten(s.subsegments ?? [])]);

it("traces the handler and each AWS call it makes, under the invocation's trace", async () => {
  const daemon = createSocket("udp4");
  const received: Segment[] = [];
  daemon.on("message", (msg) => {
    // Each datagram is a header line, then one segment document.
    const doc = msg.toString("utf8").split("\n")[1];
    if (doc) received.push(JSON.parse(doc) as Segment);
  });
  await new Promise<void>((res) => daemon.bind(0, "127.0.0.1", () => res()));
  const { port } = daemon.address() as AddressInfo;
  const traceId = "1-5759e988-bd862e3fe1be46a994272793";
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "test/support/traced-invocation.ts"], {
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        LAMBDA_TASK_ROOT: process.cwd(),
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        _HANDLER: "functions/await-human.handler",
        _X_AMZN_TRACE_ID: `Root=${traceId};Parent=53995c3f42cd8ad8;Sampled=1`,
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}`,
        TABLE_NAME: "traced",
        BUCKET_NAME: "traced",
        RUN_STATE_MACHINE_ARN: "arn:aws:states:us-east-1:123456789012:stateMachine:traced",
      },
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim().split("\n").pop() ?? "")).toEqual({ written: 1 });
    // Datagrams may trail the child's exit by a moment.
    for (let i = 0; i < 50 && !flatten(received).some((s) => s.name === "DynamoDB"); i++)
      await new Promise((r) => setTimeout(r, 20));
    const all = flatten(received);
    const handler = all.find((s) => s.name === "## functions/await-human.handler");
    expect(handler, JSON.stringify(received)).toMatchObject({
      trace_id: traceId,
      annotations: { ColdStart: true, Service: "stepwise" },
    });
    const put = all.find((s) => s.name === "DynamoDB");
    expect(put, JSON.stringify(received)).toMatchObject({
      trace_id: traceId,
      namespace: "aws",
      aws: { operation: "PutItem", table_name: "traced" },
    });
    // The call sits under the handler's subsegment: the trace shows which invocation made it.
    expect(put?.parent_id).toBe(handler?.id);
  } finally {
    daemon.close();
  }
});
