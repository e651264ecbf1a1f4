// Asynchronous export, embedded: a run with more than the synchronous export's 32 MiB is refused by GET /export
// with the contract's 409 pointing at POST /exports; the asynchronous export streams the bundle to storage as a
// multipart upload (s3rver), hands back a presigned URL, and the bundle verifies offline. The CLI uses that flow.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../shared/evidence/bundle.ts";
import { readTar } from "../../shared/evidence/tar.ts";
import { cli, cliDir, type Json, runToEnd, useTestStack } from "./evidence-helpers.ts";

// 33 MiB of incompressible bytes: past the synchronous limit, and a bundle of five 8 MiB upload parts.
const BIG = 33 * 1024 * 1024;
const WF = {
  name: "ev-export-async",
  nodes: [{ id: "big", type: "command", command: `head -c ${BIG} /dev/urandom > out/big.bin && echo wrote` }],
};

const t = useTestStack();
let run: Json;

async function waitReady(runId: string, exportId: string): Promise<Json> {
  const until = Date.now() + 60_000;
  for (;;) {
    const s = await t.api.get(`/api/runs/${runId}/exports/${exportId}`);
    if (s.status === "ready" || s.status === "failed") return s;
    if (Date.now() > until) throw new Error(`export ${exportId} is still ${s.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  run = await runToEnd(t.api, WF);
  expect(run.status).toBe("succeeded");
}, 120_000);

describe("asynchronous export (embedded)", () => {
  it("GET /export refuses a run past 32 MiB with the contract's 409 naming the asynchronous flow", async () => {
    const res = await t.api.call("GET", `/api/runs/${run.runId}/export`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect(res.body.error.message).toContain(`POST /api/runs/${run.runId}/exports`);
  });

  it("builds the bundle away from the request, streams it to storage and hands back a presigned URL", async () => {
    const started = await t.api.call("POST", `/api/runs/${run.runId}/exports`);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ runId: run.runId, status: "pending", size: null, error: null });
    expect(started.body.exportId).toMatch(/^exp_[0-9A-Z]{26}$/);

    const ready = await waitReady(run.runId, started.body.exportId);
    expect(ready.status).toBe("ready");
    expect(ready.root).toBe(run.root);
    expect(ready.size).toBeGreaterThan(BIG);
    expect(ready.url).toMatch(/^http/);

    // The presigned URL needs no API key; the API's own bundle route redirects to storage for a large bundle.
    const viaUrl = Buffer.from(await (await fetch(ready.url)).arrayBuffer());
    expect(viaUrl.length).toBe(ready.size);
    const viaApi = await t.api.call("GET", `/api/runs/${run.runId}/exports/${started.body.exportId}/bundle`);
    expect(viaApi.status).toBe(302);
    expect(viaApi.res.headers.get("x-stepwise-root")).toBe(run.root);

    const file = join(t.dataDir, "async.tgz");
    await writeFile(file, viaUrl);
    const report = await verifyBundle(file);
    expect(report.problems).toEqual([]);
    expect(report.valid).toBe(true);
    // The 33 MiB file went through the multipart upload byte for byte.
    const task = await t.api.get(`/api/runs/${run.runId}/tasks/big`);
    const stored = task.attempts[0].outputs.find((f: Json) => f.path === "big.bin");
    for await (const e of readTar(createReadStream(file).pipe(createGunzip()))) {
      const h = createHash("sha256");
      for await (const c of e.body) h.update(c);
      if (e.name === "files/big/1/big.bin") expect(`sha256:${h.digest("hex")}`).toBe(stored.sha256);
    }
  });

  it("answers an unknown export with 404 and the contract's error JSON", async () => {
    const res = await t.api.call("GET", `/api/runs/${run.runId}/exports/exp_01JAAAAAAAAAAAAAAAAAAAAAAA`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
    const bad = await t.api.call("GET", `/api/runs/${run.runId}/exports/..%2Fstatus.json`);
    expect(bad.status).toBe(404);
  });

  it("`stepwise runs export` starts the export, waits for it and downloads the bundle", async () => {
    const dir = await cliDir(t);
    const out = await cli(t, dir, "runs", "export", run.runId, "-o", "run.tgz");
    expect(out.stderr).toContain("ready");
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`exported ${run.runId} to run.tgz`);
    const bytes = await readFile(join(dir, "run.tgz"));
    expect(bytes.length).toBeGreaterThan(BIG);
    const ok = await cli(t, dir, "verify", "run.tgz");
    expect(ok.stdout).toContain("✓ valid");
  });
});
