import { createHash } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskFailure } from "../../shared/adapters/container/container-cli.ts";
import { AwsLambdaInvoker, codeSha256Hex, splitFunctionRef } from "../../shared/adapters/lambda/lambda-invoker.ts";
import { LocalLambdaInvoker } from "../../shared/adapters/lambda/local-lambda-invoker.ts";
import { hashJson } from "../../shared/domain/hash.ts";
import {
  type Moto,
  motoClientConfig,
  motoLambdaResults,
  motoRole,
  skipWithoutMoto,
  startMoto,
} from "../support/moto.ts";

const sha = (b: string | Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const payload = (v: unknown) => Buffer.from(JSON.stringify(v));

describe("function references", () => {
  it("splits names, aliases and ARNs", () => {
    expect(splitFunctionRef("enrich")).toEqual({ name: "enrich", qualifier: undefined });
    expect(splitFunctionRef("enrich:live")).toEqual({ name: "enrich", qualifier: "live" });
    expect(splitFunctionRef("arn:aws:lambda:eu-west-1:123456789012:function:enrich:7")).toEqual({
      name: "arn:aws:lambda:eu-west-1:123456789012:function:enrich",
      qualifier: "7",
    });
  });
  it("turns Lambda's base64 CodeSha256 into a sha256: hex hash", () => {
    const digest = createHash("sha256").update("code").digest();
    expect(codeSha256Hex(digest.toString("base64"))).toBe(`sha256:${digest.toString("hex")}`);
  });
});

describe("the embedded Lambda twin", () => {
  let dataDir = "";
  let invoker: LocalLambdaInvoker;
  const handler = `export const handler = async (event, context) => {
  console.log("enriching", event.day);
  if (event.fail) { const e = new Error("no rows for " + event.day); e.name = "NoRowsError"; throw e; }
  if (event.hang) await new Promise((r) => setTimeout(r, 60_000));
  return { rows: 42, fn: context.functionName, arn: context.invokedFunctionArn, left: context.getRemainingTimeInMillis() > 0,
           leaked: Object.keys(process.env).filter((k) => k.startsWith("STEPWISE_LEAK") || k.startsWith("AWS_SECRET")) };
};
`;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "stepwise-lambda-"));
    await mkdir(join(dataDir, "functions", "enrich"), { recursive: true });
    await writeFile(join(dataDir, "functions", "enrich", "index.mjs"), handler);
    await writeFile(join(dataDir, "functions", "enrich", "rows.json"), "[1,2]");
    await writeFile(join(dataDir, "score.mjs"), "export const score = async (e) => ({ score: e.n * 2 });\n");
    await writeFile(
      join(dataDir, "functions.json"),
      JSON.stringify({ scorer: { module: "score.mjs", handler: "score" } }),
    );
    invoker = new LocalLambdaInvoker(dataDir, join(dataDir, "work"));
  });

  it("runs a folder's handler with the event and context, its code hash the folder's bundle hash", async () => {
    process.env.STEPWISE_LEAK_CHECK = "1";
    const out = await invoker.invoke("enrich:live", payload({ day: "2026-12-01" }), 10_000);
    delete process.env.STEPWISE_LEAK_CHECK;
    expect(JSON.parse(out.response.toString())).toEqual({
      rows: 42,
      fn: "enrich",
      arn: "arn:aws:lambda:local:000000000000:function:enrich",
      left: true,
      leaked: [],
    });
    expect(out.functionError).toBeNull();
    expect(out.functionArn).toBe("arn:aws:lambda:local:000000000000:function:enrich:$LATEST");
    expect(out.codeHash).toBe(hashJson({ "index.mjs": sha(handler), "rows.json": sha("[1,2]") }));
    expect(out.logTail).toContain("enriching 2026-12-01");
  });

  it("runs a module named in functions.json", async () => {
    const out = await invoker.invoke("scorer", payload({ n: 4 }), 10_000);
    expect(JSON.parse(out.response.toString())).toEqual({ score: 8 });
    expect(out.codeHash).toBe(
      hashJson({ "score.mjs": sha("export const score = async (e) => ({ score: e.n * 2 });\n") }),
    );
  });

  it("reports a thrown error with its type and message", async () => {
    const out = await invoker.invoke("enrich", payload({ day: "d1", fail: true }), 10_000);
    expect(out.functionError).toEqual({ type: "NoRowsError", message: "no rows for d1" });
    expect(out.logTail).toContain("NoRowsError: no rows for d1");
  });

  it("fails with timeout and with function_not_found", async () => {
    const slow = await invoker.invoke("enrich", payload({ hang: true }), 1000).catch((e: unknown) => e);
    expect((slow as TaskFailure).code).toBe("timeout");
    const missing = await invoker.invoke("nope", payload({}), 1000).catch((e: unknown) => e);
    expect((missing as TaskFailure).code).toBe("function_not_found");
    expect((missing as Error).message).toMatch(/functions\/nope\/index\.mjs/);
  });
});

describe.skipIf(skipWithoutMoto)("the Lambda invoker against moto", () => {
  let moto: Moto;
  let client: LambdaClient;
  beforeAll(async () => {
    moto = await startMoto();
    client = new LambdaClient(motoClientConfig(moto.endpoint));
  });
  afterAll(() => moto?.stop());

  it("invokes RequestResponse and records the ARN with the version that ran and the code's sha256", async () => {
    const role = await motoRole(moto.endpoint, "fn-role");
    const zip = Buffer.from("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", "base64"); // an empty zip archive
    const created = await client.send(
      new CreateFunctionCommand({
        FunctionName: "enrich",
        Runtime: "nodejs22.x",
        Role: role,
        Handler: "index.handler",
        Code: { ZipFile: zip },
      }),
    );
    await motoLambdaResults(moto.endpoint, [{ rows: 5 }]);
    const out = await new AwsLambdaInvoker(client).invoke("enrich", payload({ day: "d" }), 10_000);
    expect(out.functionArn).toBe(`${created.FunctionArn}:$LATEST`);
    expect(out.executedVersion).toBe("$LATEST");
    expect(out.codeHash).toBe(sha(zip));
    expect(JSON.parse(out.response.toString())).toEqual({ rows: 5 });
    expect(out.functionError).toBeNull();
  });

  it("fails with function_not_found for a function the account does not have", async () => {
    const err = await new AwsLambdaInvoker(client).invoke("missing", payload({}), 10_000).catch((e: unknown) => e);
    expect((err as TaskFailure).code).toBe("function_not_found");
  });
});
