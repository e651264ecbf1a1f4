// Asynchronous export in the cloud composition on moto: the api function (API Gateway events) starts an export and
// invokes the exportBundle function asynchronously through Lambda's Invoke API (InvocationType Event, answered by
// the bridge the way Lambda does: 202 at once, the function afterwards); exportBundle, loaded with the environment the
// stack gives it, streams the bundle into moto's S3 as a multipart upload; the API hands back a presigned URL.
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { verifyBundle } from "../../shared/evidence/bundle.ts";
import { pollUntil } from "../support/poll.ts";
import { PLATFORM_KEY } from "./support/cloud-stack.ts";
import { type Scenario, startScenario } from "./support/scenario.ts";
import { type Json, synthesizeStack } from "./support/synth.ts";
import { requireTool } from "./support/tools.ts";

const motoServer = requireTool("moto_server");
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });
let s: Scenario;
let run: Json;
const savedLambdaEndpoint = process.env.AWS_ENDPOINT_URL_LAMBDA;

// 9 MiB of incompressible bytes: a bundle of two multipart parts (8 MiB parts).
const BIG = 9 * 1024 * 1024;
const wf = {
  name: "cloud-export",
  nodes: [{ id: "big", type: "command", command: `head -c ${BIG} /dev/urandom > out/big.bin` }],
};

describe.skipIf(!motoServer)("asynchronous export on moto", () => {
  beforeAll(async () => {
    const { stack, template } = synthesizeStack();
    s = await startScenario(motoServer as string, stack, template, { executeStateMachines: true });
    // The api function's Lambda client reaches the stack's functions through the bridge (other calls go on to moto).
    process.env.AWS_ENDPOINT_URL_LAMBDA = s.moto.bridge;
    const put = await s.api("PUT", `/api/workflows/${wf.name}`, { key: PLATFORM_KEY, body: wf });
    expect(put.status, put.text).toBe(201);
    const res = await s.api("POST", `/api/workflows/${wf.name}/trigger`, { key: PLATFORM_KEY, body: {} });
    expect(res.status, res.text).toBe(202);
    run = await pollUntil(
      "the run",
      async () => {
        const r = await s.api("GET", `/api/runs/${res.body.runId}`, { key: PLATFORM_KEY });
        return ["succeeded", "failed"].includes(r.body.status) ? r.body : null;
      },
      180_000,
    );
    expect(run.status).toBe("succeeded");
  });
  afterAll(async () => {
    if (savedLambdaEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_LAMBDA;
    else process.env.AWS_ENDPOINT_URL_LAMBDA = savedLambdaEndpoint;
    await s?.stop();
  });

  it("builds the bundle in exportBundle, streams it to S3 and hands back a presigned URL", async () => {
    const started = await s.api("POST", `/api/runs/${run.runId}/exports`, { key: PLATFORM_KEY });
    expect(started.status, started.text).toBe(202);
    expect(started.body.status).toBe("pending");
    const ready = await pollUntil(
      "the export",
      async () => {
        const r = await s.api("GET", `/api/runs/${run.runId}/exports/${started.body.exportId}`, { key: PLATFORM_KEY });
        expect(r.status, r.text).toBe(200);
        return ["ready", "failed"].includes(r.body.status) ? r.body : null;
      },
      120_000,
    );
    expect(ready.error).toBeNull();
    expect(ready.status).toBe("ready");
    expect(ready.root).toBe(run.root);
    expect(ready.size).toBeGreaterThan(BIG);
    // The api function invoked the export worker asynchronously, with the job and nothing else.
    const asked = s.moto.invocations.filter((i) => i.functionName === s.cloud.functionNames.exportBundle);
    expect(asked.map((i) => i.payload)).toEqual([
      { orgId: "default", runId: run.runId, exportId: started.body.exportId },
    ]);
    expect(asked[0]?.error).toBeUndefined();

    // The presigned URL is S3's (moto's), valid without the API key.
    expect(ready.url).toContain("X-Amz-Signature=");
    const bytes = Buffer.from(await (await fetch(ready.url)).arrayBuffer());
    expect(bytes.length).toBe(ready.size);
    const file = join(tmpdir(), `stepwise-cloud-export-${run.runId}.tgz`);
    await writeFile(file, bytes);
    const report = await verifyBundle(file);
    expect(report.problems).toEqual([]);
    expect(report.valid).toBe(true);

    const viaApi = await s.api("GET", `/api/runs/${run.runId}/exports/${started.body.exportId}/bundle`, {
      key: PLATFORM_KEY,
    });
    expect(viaApi.status).toBe(302);
    expect(viaApi.headers.location).toContain("X-Amz-Signature=");
  });

  it("answers the synchronous export as before for a run under 32 MiB", async () => {
    const res = await s.api("GET", `/api/runs/${run.runId}/export`, { key: PLATFORM_KEY });
    expect(res.status).toBe(302);
    expect(res.headers["x-stepwise-root"]).toBe(run.root);
  });
});
