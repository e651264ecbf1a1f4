// One handler invocation as the Lambda runtime makes it with active tracing (the test sets LAMBDA_TASK_ROOT,
// _X_AMZN_TRACE_ID and AWS_XRAY_DAEMON_ADDRESS): the cloud's telemetry chain around a DynamoDB write made through a
// client the cloud's way (captured by the tracer), against dynalite. Run in a child process: the X-Ray SDK reads its
// environment once, at import. Prints the handler's result as the last line.
import type { AddressInfo } from "node:net";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import dynalite from "dynalite";
import { powertoolsTelemetry } from "../../functions/powertools-telemetry.ts";
import { makeDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { ensureTable } from "../../shared/adapters/emulator-setup.ts";
import { clientCapture, makePowertools } from "../../shared/adapters/powertools.ts";
import { loadConfig } from "../../shared/config.ts";
import { CostMeter } from "../../shared/ports/metrics.ts";

const dyn = dynalite({ createTableMs: 0 });
await new Promise<void>((res) => dyn.listen(0, "127.0.0.1", () => res()));
const endpoint = `http://127.0.0.1:${(dyn.address() as AddressInfo).port}`;
await ensureTable(endpoint, "traced");
const pt = makePowertools(loadConfig("awaitHuman"));
const meter = new CostMeter();
const db = makeDocumentClient({ endpoint, capture: clientCapture(pt.tracer) }, meter);
const handler = powertoolsTelemetry(pt, meter)
  .chain<{ runId: string; orgId: string }, { written: number }>()
  .handler(async (event) => {
    await db.send(new PutCommand({ TableName: "traced", Item: { pk: event.orgId, sk: event.runId } }));
    return { written: meter.dynamoWrites };
  });
const context = {
  functionName: "traced",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:traced",
  memoryLimitInMB: "256",
  awsRequestId: "req-traced",
  logGroupName: "/aws/lambda/traced",
  logStreamName: "traced",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};
const result = await handler({ runId: "run_traced", orgId: "default" }, context);
await new Promise<void>((res) => dyn.close(() => res()));
console.log(JSON.stringify(result));
