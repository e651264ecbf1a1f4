// Every byte of an exported bundle that the manifest covers is checked offline, and `stepwise verify` names the
// entry that broke. Before, a log of 1 KiB or less was checked only from the copy in the task records, so editing
// its log file in the bundle went unseen.
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createGunzip, gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { readTar, TarWriter } from "../../shared/evidence/tar.ts";
import { cli, cliDir, type Json, runToEnd, useTestStack } from "./evidence-helpers.ts";

const WF = {
  name: "ev-tamper",
  nodes: [
    // A short log (kept inline in the task record) and a run file.
    { id: "short", type: "command", command: "echo 'short log line' && echo data > out/data.txt" },
    // Over 1 KiB of log: stored as an object of its own.
    { id: "long", type: "command", needs: ["short"], command: "seq 1 600" },
  ],
};

const t = useTestStack();
let dir: string;
let entries: Array<{ name: string; data: Buffer }>;

/** Writes the exported bundle again with `edit` applied to the entries, as someone with the file could. */
async function forge(
  name: string,
  edit: (e: { name: string; data: Buffer }) => Buffer | null,
  added: Array<{ name: string; data: Buffer }> = [],
): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (c: Buffer) => chunks.push(c));
  const tar = new TarWriter(sink);
  for (const e of [...entries, ...added]) {
    const data = edit(e);
    if (data) await tar.add(e.name, data);
  }
  await tar.finish();
  await writeFile(join(dir, name), gzipSync(Buffer.concat(chunks)));
  return name;
}

/** Runs `stepwise verify` on a forged bundle; returns its human output after checking it says invalid. */
async function verifyInvalid(file: string): Promise<string> {
  const res = await cli(t, dir, "verify", file);
  expect(res.code).toBe(1);
  expect(res.stdout).toContain("✗ INVALID");
  const json = JSON.parse((await cli(t, dir, "verify", file, "--json")).stdout) as Json;
  expect(json.valid).toBe(false);
  return res.stdout;
}

/** A byte of text changed in place, same length, so no size check gives it away. */
const flipOne = (data: Buffer, from: string, to: string): Buffer => {
  const text = data.toString("utf8");
  expect(text).toContain(from);
  return Buffer.from(text.replace(from, to), "utf8");
};

beforeAll(async () => {
  const run = await runToEnd(t.api, WF);
  expect(run.status).toBe("succeeded");
  dir = await cliDir(t);
  const out = await cli(t, dir, "runs", "export", run.runId, "-o", "run.tgz");
  expect(out.code).toBe(0);
  entries = [];
  for await (const e of readTar(createReadStream(join(dir, "run.tgz")).pipe(createGunzip()))) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    entries.push({ name: e.name, data: Buffer.concat(parts) });
  }
  const shortLog = entries.find((e) => e.name === "logs/short/1.log");
  const longLog = entries.find((e) => e.name === "logs/long/1.log");
  expect(shortLog?.data.length).toBeLessThanOrEqual(1024);
  expect(longLog?.data.length).toBeGreaterThan(1024);
  const ok = await cli(t, dir, "verify", "run.tgz");
  expect(ok.stdout).toContain("✓ valid");
}, 60_000);

describe("offline verify of an edited bundle", () => {
  it("finds a short log edited in its log file, though the task record keeps an intact copy", async () => {
    const file = await forge("short-log.tgz", (e) =>
      e.name === "logs/short/1.log" ? flipOne(e.data, "short log", "sh0rt log") : e.data,
    );
    const out = await verifyInvalid(file);
    expect(out).toMatch(/logs\/short\/1\.log: the log of task 'short' attempt 1: the stored bytes hash to/);
  });

  it("finds a long log edited", async () => {
    const file = await forge("long-log.tgz", (e) =>
      e.name === "logs/long/1.log" ? flipOne(e.data, "o|599", "o|598") : e.data,
    );
    expect(await verifyInvalid(file)).toMatch(/logs\/long\/1\.log: the log of task 'long' attempt 1/);
  });

  it("finds a short log file removed from the bundle", async () => {
    const file = await forge("no-log.tgz", (e) => (e.name === "logs/short/1.log" ? null : e.data));
    expect(await verifyInvalid(file)).toMatch(/logs\/short\/1\.log: .* is missing/);
  });

  it("finds a run file edited", async () => {
    const file = await forge("run-file.tgz", (e) =>
      e.name === "files/short/1/data.txt" ? flipOne(e.data, "data", "date") : e.data,
    );
    expect(await verifyInvalid(file)).toMatch(/files\/short\/1\/data\.txt: file 'data\.txt' \(written by 'short'/);
  });

  it("finds a task record edited, even its inline copy of the log", async () => {
    const file = await forge("task-record.tgz", (e) =>
      e.name === "records/tasks.json" ? flipOne(e.data, '"exitCode": 0', '"exitCode": 1') : e.data,
    );
    expect(await verifyInvalid(file)).toMatch(/records\/tasks\.json: the record of task '(short|long)' differs/);
    const inline = await forge("inline-copy.tgz", (e) =>
      e.name === "records/tasks.json" ? flipOne(e.data, "short log line", "sh0rt log line") : e.data,
    );
    expect(await verifyInvalid(inline)).toMatch(/records\/tasks\.json: the record of task 'short' differs/);
  });

  it("finds the run record, the audit trail and the manifest edited, and a file no record accounts for", async () => {
    const run = await forge("run-record.tgz", (e) =>
      e.name === "records/run.json" ? flipOne(e.data, '"status": "succeeded"', '"status": "failed"') : e.data,
    );
    expect(await verifyInvalid(run)).toMatch(/records\/run\.json: the run record/);
    const audit = await forge("audit.tgz", (e) =>
      e.name === "records/audit.json"
        ? flipOne(e.data, '"actor": "stepwise:engine"', '"actor": "someone-else"')
        : e.data,
    );
    expect(await verifyInvalid(audit)).toMatch(/records\/audit\.json: audit event \d+/);
    const manifest = await forge("manifest.tgz", (e) =>
      e.name === "manifest.json" ? flipOne(e.data, '"seq"', '"Seq"') : e.data,
    );
    expect(await verifyInvalid(manifest)).toMatch(/manifest\.json: /);
    // Appended after the fact: a log of an attempt that never ran.
    const extra = await forge("extra.tgz", (e) => e.data, [
      { name: "logs/short/2.log", data: Buffer.from("o|made up\n") },
    ]);
    expect(await verifyInvalid(extra)).toMatch(/logs\/short\/2\.log: no record of the run accounts for this file/);
  });
});
