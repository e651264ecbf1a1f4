// Verifiable runs: the sealed root, verify on a clean run, and on records, audit events and files edited behind the
// service's back; then export and verify the bundle offline with the CLI.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createGunzip, gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import type { DynamoRunStore } from "../../shared/adapters/dynamo/run-store.ts";
import { runFileKey } from "../../shared/evidence/run-files.ts";
import { readTar, TarWriter } from "../../shared/evidence/tar.ts";
import {
  cli,
  cliDir,
  type Json,
  putAndTrigger,
  runToEnd,
  useTestStack,
  waitForRun,
  waitForTask,
} from "./evidence-helpers.ts";

const WF = {
  name: "ev-verify",
  parameters: { day: { type: "string", default: "2026-11-21" } },
  nodes: [
    {
      id: "produce",
      type: "command",
      env: { DAY: `\${params.day}` },
      command: "echo \"report of $DAY\" > out/report.txt && echo 'rows=3' >> $STEPWISE_OUTPUT && echo made",
    },
    {
      id: "consume",
      type: "script",
      runtime: "node",
      needs: ["produce"],
      inputs: ["report.txt"],
      code:
        "import { readFileSync, writeFileSync } from 'node:fs';\n" +
        "export default async ({ context }) => { writeFileSync('out/summary.txt', readFileSync('in/report.txt', 'utf8').toUpperCase()); return { seen: context.rows }; }",
    },
  ],
};

const HEX = /^sha256:[0-9a-f]{64}$/;
const t = useTestStack();

const store = () => t.stack.deps.store as unknown as DynamoRunStore;
async function rawItem(runId: string, sk: string): Promise<Record<string, unknown>> {
  const item = (await store().rawRunItems("default", runId)).find((i) => i.sk === sk);
  if (!item) throw new Error(`no item ${sk}`);
  return item;
}
/** Rewrites a stored item directly in the table, as someone with database access could. */
async function tamper(runId: string, sk: string, edit: (item: Record<string, unknown>) => void) {
  const item = structuredClone(await rawItem(runId, sk));
  edit(item);
  await store().putItem(item);
}
const verify = (runId: string): Promise<Json> => t.api.get(`/api/runs/${runId}/verify`);

describe("verify", () => {
  it("seals a root on the run when it ends and finds a clean run valid", async () => {
    const run = await runToEnd(t.api, WF);
    expect(run.status).toBe("succeeded");
    expect(run.root).toMatch(HEX);
    // The root is written with the terminal transition itself: no ended run is ever seen without it.
    const audit = await t.api.get(`/api/runs/${run.runId}/audit`);
    const last = audit.items[audit.items.length - 1];
    expect(last).toMatchObject({ type: "run.transition", to: "succeeded" });
    const report = await verify(run.runId);
    expect(report).toMatchObject({ valid: true, root: run.root, sealedRoot: run.root, sealed: true, problems: [] });
    expect(report.checked).toMatchObject({ tasks: 2, files: 2, logs: 1 });
    expect(report.checked.auditEvents).toBe(audit.items.length);
  }, 30_000);

  it("names the audit event edited in the table", async () => {
    const run = await runToEnd(t.api, WF);
    await tamper(run.runId, "AUDIT#0000000003", (i) => {
      i.actor = "mallory";
    });
    const report = await verify(run.runId);
    expect(report.valid).toBe(false);
    expect(report.problems).toContain("audit event 3: content does not match its hash");
  }, 30_000);

  it("names the task record edited in the table", async () => {
    const run = await runToEnd(t.api, WF);
    await tamper(run.runId, "TASK#produce", (i) => {
      i.exitCode = 0;
      i.stdout = "something else\n";
    });
    const report = await verify(run.runId);
    expect(report.valid).toBe(false);
    expect(report.problems.join("\n")).toContain(
      "the record of task 'produce' differs from the snapshot of audit event",
    );
    expect(report.problems.join("\n")).toContain("not the sealed root");
  }, 30_000);

  it("names the file whose stored bytes changed on disk", async () => {
    const run = await runToEnd(t.api, WF);
    // s3rver keeps each object as a plain file under the data directory.
    const key = runFileKey("default", run.runId, "produce", 1, "report.txt");
    await writeFile(join(t.dataDir, "s3", "stepwise", `${key}._S3rver_object`), "report of 1999-01-01\n");
    const report = await verify(run.runId);
    expect(report.valid).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toContain(
      "file 'report.txt' (written by 'produce', attempt 1): the stored bytes hash to",
    );
  }, 30_000);

  it("names a log whose stored bytes changed", async () => {
    // Over 1 KiB of output: the log is an object of its own in S3.
    const loud = structuredClone(WF);
    loud.name = "ev-verify-loud";
    loud.nodes[0] = { ...WF.nodes[0], command: `${WF.nodes[0]?.command} && seq 1 400` } as (typeof WF.nodes)[0];
    const run = await runToEnd(t.api, loud);
    const task = (await rawItem(run.runId, "TASK#produce")) as Json;
    expect(task.logKey).toEqual(expect.any(String));
    await t.stack.deps.blobs.put(task.logKey, "o|nothing to see\n");
    const report = await verify(run.runId);
    expect(report.valid).toBe(false);
    expect(report.problems).toEqual([expect.stringContaining("the log of task 'produce' attempt 1")]);
  }, 30_000);

  it("keeps a short log in the task record, served by the logs route and checked by verify", async () => {
    const run = await runToEnd(t.api, WF);
    const task = (await rawItem(run.runId, "TASK#produce")) as Json;
    expect(task.logKey).toBeNull();
    expect(task.logInline).toBe("o|made\n");
    expect(task.logSha256).toMatch(HEX);
    const logs = await t.api.call("GET", `/api/runs/${run.runId}/logs?node=produce`);
    expect(logs.body).toBe("produce | made\n");
    await tamper(run.runId, "TASK#produce", (i) => {
      // Every stored copy of the log (the stored record keeps the current attempt's fields once, at the top).
      i.logInline = "o|nothing to see\n";
      for (const a of i.attempts as Json[]) a.logInline = "o|nothing to see\n";
    });
    const report = await verify(run.runId);
    expect(report.valid).toBe(false);
    expect(report.problems.join("\n")).toContain("the log of task 'produce' attempt 1 kept in its record hashes to");
  }, 30_000);
});

describe("verify before and around the end", () => {
  it("checks a run that has not ended (nothing sealed yet)", async () => {
    const { runId } = await putAndTrigger(t.api, {
      name: "ev-waiting",
      nodes: [
        { id: "first", type: "command", command: "echo one > out/one.txt" },
        { id: "pause", type: "wait", needs: ["first"], seconds: 3 },
      ],
    });
    await waitForTask(t.api, runId, "pause", (task) => task.status === "running");
    const report = await verify(runId);
    expect(report).toMatchObject({ valid: true, sealed: false, sealedRoot: null, problems: [] });
    expect(report.root).toMatch(HEX);
    const run = await waitForRun(t.api, runId);
    expect(run.root).toMatch(HEX);
    expect((await verify(runId)).valid).toBe(true);
  }, 30_000);

  it("finds a run valid while a task runs and the engine has not written the finished task's record yet", async () => {
    const { runId } = await putAndTrigger(t.api, {
      name: "ev-running",
      nodes: [
        { id: "first", type: "command", command: "echo one > out/one.txt" },
        { id: "slow", type: "command", needs: ["first"], command: "sleep 3" },
      ],
    });
    await waitForTask(t.api, runId, "slow", (task) => task.status === "running");
    const report = await verify(runId);
    expect(report).toMatchObject({ valid: true, sealed: false, problems: [] });
    expect((await waitForRun(t.api, runId)).status).toBe("succeeded");
    expect(await verify(runId)).toMatchObject({ valid: true, sealed: true, problems: [] });
  }, 30_000);

  it("keeps a cancelled run valid when the cancelled task's evidence lands after the seal", async () => {
    const { runId } = await putAndTrigger(t.api, {
      name: "ev-cancel",
      nodes: [{ id: "slow", type: "command", command: "echo start; sleep 5" }],
    });
    await waitForTask(t.api, runId, "slow", (task) => task.status === "running");
    expect((await t.api.call("POST", `/api/runs/${runId}/cancel`, {})).status).toBe(202);
    await waitForTask(t.api, runId, "slow", (task) => task.attempts.length > 0);
    const report = await verify(runId);
    expect(report).toMatchObject({ valid: true, sealed: true, problems: [] });
    expect(report.eventsAfterSeal).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

describe("export and offline verify", () => {
  let runId: string;
  let dir: string;

  beforeAll(async () => {
    runId = (await runToEnd(t.api, WF)).runId;
    dir = await cliDir(t);
  }, 30_000);

  it("exports a bundle that verifies with no server", async () => {
    const out = await cli(t, dir, "runs", "export", runId, "-o", "run.tgz");
    expect(out.stderr).toContain("stepwise verify run.tgz");
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`exported ${runId} to run.tgz`);
    const names: string[] = [];
    for await (const e of readTar(
      (await import("node:fs")).createReadStream(join(dir, "run.tgz")).pipe(createGunzip()),
    ))
      names.push(e.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "bundle.json",
        "manifest.json",
        "records/run.json",
        "records/tasks.json",
        "records/audit.json",
        "records/workflow.json",
        "files/produce/1/report.txt",
        "files/consume/1/summary.txt",
        "logs/produce/1.log",
      ]),
    );

    // Stop the server: the bundle alone is enough.
    const root = (await t.api.get(`/api/runs/${runId}`)).root;
    const ok = await cli({ ...t, stack: { ...t.stack, url: "http://127.0.0.1:9" } }, dir, "verify", "run.tgz");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("✓ valid");
    expect(ok.stdout).toContain(root);
    const json = await cli(t, dir, "verify", "run.tgz", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, root, problems: [] });
  }, 30_000);

  it("finds a file changed inside the bundle", async () => {
    // Rewrite the bundle with one file's bytes changed, everything else as exported.
    const entries: Array<{ name: string; data: Buffer }> = [];
    for await (const e of readTar(
      (await import("node:fs")).createReadStream(join(dir, "run.tgz")).pipe(createGunzip()),
    )) {
      const parts: Buffer[] = [];
      for await (const c of e.body) parts.push(c);
      entries.push({ name: e.name, data: Buffer.concat(parts) });
    }
    const chunks: Buffer[] = [];
    const sink = new (await import("node:stream")).PassThrough();
    sink.on("data", (c: Buffer) => chunks.push(c));
    const tar = new TarWriter(sink);
    for (const e of entries)
      await tar.add(e.name, e.name === "files/produce/1/report.txt" ? Buffer.from("forged\n") : e.data);
    await tar.finish();
    await writeFile(join(dir, "forged.tgz"), gzipSync(Buffer.concat(chunks)));
    const bad = await cli(t, dir, "verify", "forged.tgz");
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("✗ INVALID");
    expect(bad.stdout).toContain("file 'report.txt' (written by 'produce', attempt 1)");
  }, 30_000);

  it("verifies a run on the server by id, and says so when the argument is neither", async () => {
    const ok = await cli(t, dir, "verify", runId);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("✓ valid");
    const none = await cli(t, dir, "verify", "nothing.tgz");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no such file: nothing.tgz");
    expect(await readFile(join(dir, "run.tgz"))).toBeTruthy();
  }, 30_000);
});
