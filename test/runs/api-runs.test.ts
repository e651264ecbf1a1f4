// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${context.x} and ${params.x} are Stepwise references, not JS templates.
// Runs through the HTTP API: triggering, parameters, lists, records, evidence, logs, audit, cancel and rerun.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENESIS_HASH } from "../../shared/domain/audit.ts";
import { expectIntactChain } from "../support/audit-chain.ts";
import {
  commandWorkflow,
  HASH,
  type Json,
  MICRO_ISO,
  processGroup,
  startStack,
  type TestStack,
} from "../support/stack.ts";

const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

let s: TestStack;
let scratch: string;
beforeAll(async () => {
  s = await startStack();
  scratch = await mkdtemp(join(tmpdir(), "stepwise-runs-"));
});
afterAll(async () => {
  await s?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const runsOf = async (workflow: string) => (await s.json(`/api/runs?workflow=${workflow}&limit=100`)).items as Json[];

/** The audit chain is intact, and every event's timestamp and hash are in the contract's formats. */
function expectIntactChainOfFormats(items: Json[]): void {
  expectIntactChain(items, (ev) => {
    expect(ev.at).toMatch(MICRO_ISO);
    expect(ev.hash).toMatch(HASH);
  });
}

describe("triggering", () => {
  const paramsWf = {
    name: "params-wf",
    parameters: {
      day: { type: "string", required: true },
      limit: { type: "number", default: 10 },
      loud: { type: "boolean" },
    },
    nodes: [{ id: "show", type: "command", command: 'echo "$DAY $LIMIT"', env: { DAY: "${params.day}" } }],
  };

  it("trigger → 202 {runId, status: queued, workflow}; defaults applied; the run succeeds", async () => {
    const put = await s.putWorkflow(paramsWf);
    const res = await s.api("/api/workflows/params-wf/trigger", {
      method: "POST",
      body: { parameters: { day: "mon" } },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      runId: expect.stringMatching(/^run_[0-9A-HJKMNP-TV-Z]{26}$/),
      status: "queued",
      workflow: { name: "params-wf", version: 1, definitionHash: put.definitionHash },
    });
    const run = await s.waitForRun(res.body.runId);
    expect(run).toMatchObject({ status: "succeeded", error: null });
    expect(run.parameters).toEqual({ day: "mon", limit: 10 });
  });

  it("missing, mistyped or unknown parameters → 400 naming them, and no run is created", async () => {
    await s.putWorkflow({ ...paramsWf, name: "params-strict" });
    const bodies = [
      { parameters: {} },
      {},
      { parameters: { day: 5 } },
      { parameters: { day: "mon", limit: "ten" } },
      { parameters: { day: "mon", loud: "yes" } },
      { parameters: { day: "mon", bogus: 1 } },
      { parameters: "day=mon" },
    ];
    for (const body of bodies) {
      const res = await s.api("/api/workflows/params-strict/trigger", { method: "POST", body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
    const missing = await s.api("/api/workflows/params-strict/trigger", { method: "POST", body: {} });
    expect(missing.body.error.message).toContain("day");
    expect(missing.body.error.details).toEqual([{ path: "parameters.day", message: expect.stringContaining("day") }]);
    const mistyped = await s.api("/api/workflows/params-strict/trigger", {
      method: "POST",
      body: { parameters: { day: "mon", limit: "ten" } },
    });
    expect(mistyped.body.error.message).toContain("limit");
    const viaRuns = await s.api("/api/runs", { method: "POST", body: { workflow: "params-strict", parameters: {} } });
    expect(viaRuns.status).toBe(400);
    expect(await runsOf("params-strict")).toEqual([]);
    expect((await s.json("/api/workflows/params-strict/runs")).items).toEqual([]);
  });

  it("rejects a trigger body with unknown fields (400), bad JSON (400), a non-JSON type (415); unknown workflow 404", async () => {
    await s.putWorkflow(commandWorkflow("body-wf", "true"));
    const extra = await s.api("/api/workflows/body-wf/trigger", { method: "POST", body: { params: {} } });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain("params");
    const badJson = await s.api("/api/workflows/body-wf/trigger", { method: "POST", raw: "{nope" });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe("validation_failed");
    const form = await s.api("/api/workflows/body-wf/trigger", {
      method: "POST",
      raw: "parameters=x",
      contentType: "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe("unsupported_media_type");
    expect(await runsOf("body-wf")).toEqual([]);
    // No body at all is an empty trigger.
    expect((await s.api("/api/workflows/body-wf/trigger", { method: "POST" })).status).toBe(202);
    const unknown = await s.api("/api/workflows/no-such-wf/trigger", { method: "POST", body: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
  });

  it("the same Idempotency-Key returns the same runId and creates one run", async () => {
    await s.putWorkflow(commandWorkflow("idem-wf", "true"));
    const send = (key: string) =>
      s.json("/api/workflows/idem-wf/trigger", {
        method: "POST",
        body: {},
        headers: { "idempotency-key": key },
        expect: 202,
      });
    const a = await send("order-42");
    const b = await send("order-42");
    expect(b.runId).toBe(a.runId);
    const c = await send("order-43");
    expect(c.runId).not.toBe(a.runId);
    const viaRuns = await s.json("/api/runs", {
      method: "POST",
      body: { workflow: "idem-wf" },
      headers: { "Idempotency-Key": "order-42" },
      expect: 202,
    });
    expect(viaRuns.runId).toBe(a.runId);
    await s.waitForRun(a.runId);
    await s.waitForRun(c.runId);
    expect((await runsOf("idem-wf")).map((r) => r.runId).sort()).toEqual([a.runId, c.runId].sort());

    // Ten at once with a fresh key: every caller gets the one run, whoever claimed the key.
    const burst = await Promise.all(Array.from({ length: 10 }, () => send("order-44")));
    expect(new Set(burst.map((r) => r.runId)).size).toBe(1);
    await s.waitForRun(burst[0].runId);
    expect((await runsOf("idem-wf")).length).toBe(3);
  });

  it("a key claimed by a request that died: 409 while the claim is fresh, taken over once it is stale", async () => {
    await s.putWorkflow(commandWorkflow("idem-dead", "true"));
    const send = (key: string) =>
      s.api("/api/workflows/idem-dead/trigger", { method: "POST", body: {}, headers: { "idempotency-key": key } });
    // Claims as a request that died right after claiming would leave them: no run was ever created.
    const dead = "run_01JD0000000000000000000000";
    await s.deps.repos.idempotency.claim("default", "trigger:idem-dead", "fresh", dead, Date.now());
    await s.deps.repos.idempotency.claim("default", "trigger:idem-dead", "stale", dead, Date.now() - 120_000);
    const fresh = await send("fresh");
    expect(fresh.status).toBe(409);
    expect(fresh.body.error.message).toContain("retry in a moment with the same key");
    const stale = await send("stale");
    expect(stale.status).toBe(202);
    expect(stale.body.runId).not.toBe(dead);
    // From then on the key is the new run's.
    expect((await send("stale")).body.runId).toBe(stale.body.runId);
    await s.waitForRun(stale.body.runId);
  });

  it("by hash: pinned to that exact definition even after the workflow changed", async () => {
    const v1 = await s.putWorkflow(commandWorkflow("pinned", "echo version-one"));
    const v2 = await s.putWorkflow(commandWorkflow("pinned", "echo version-two"));
    expect(v2.version).toBe(2);

    const res = await s.api(`/api/workflows/by-hash/${v1.definitionHash}/trigger`, { method: "POST", body: {} });
    expect(res.status).toBe(202);
    expect(res.body.workflow).toEqual({ name: "pinned", version: 1, definitionHash: v1.definitionHash });
    const run = await s.waitForRun(res.body.runId, ["succeeded"]);
    expect(run.workflow).toEqual({ name: "pinned", version: 1, definitionHash: v1.definitionHash });
    const task = await s.json(`/api/runs/${run.runId}/tasks/main`);
    expect(task.stdout).toBe("version-one\n");

    const byName = await s.trigger("pinned");
    const latest = await s.waitForRun(byName, ["succeeded"]);
    expect(latest.workflow.version).toBe(2);

    const viaRuns = await s.json("/api/runs", {
      method: "POST",
      body: { workflow: "pinned", definitionHash: v1.definitionHash },
      expect: 202,
    });
    expect(viaRuns.workflow.version).toBe(1);
    await s.waitForRun(viaRuns.runId);

    const unknown = await s.api(`/api/workflows/by-hash/sha256:${"a".repeat(64)}/trigger`, {
      method: "POST",
      body: {},
    });
    expect(unknown.status).toBe(404);
    const malformed = await s.api("/api/workflows/by-hash/md5:abc/trigger", { method: "POST", body: {} });
    expect(malformed.status).toBe(400);
    const mismatch = await s.api("/api/runs", {
      method: "POST",
      body: { workflow: "idem-wf", definitionHash: v1.definitionHash },
    });
    expect(mismatch.status).toBe(404);
  });

  it("POST /api/runs → 202 like trigger; a missing workflow is 400, unknown fields 400", async () => {
    await s.putWorkflow(commandWorkflow("posted", "true"));
    const res = await s.api("/api/runs", { method: "POST", body: { workflow: "posted", parameters: {} } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: "queued", workflow: { name: "posted", version: 1 } });
    const run = await s.waitForRun(res.body.runId, ["succeeded"]);
    expect(run.trigger).toEqual({ type: "manual", userId: "platform" });
    expect((await s.api("/api/runs", { method: "POST", body: {} })).status).toBe(400);
    expect((await s.api("/api/runs", { method: "POST", body: { workflow: "posted", x: 1 } })).status).toBe(400);
  });
});

describe("listing runs", () => {
  it("filters by workflow and status; limit=2 pages are disjoint, newest first, ending with a null cursor", async () => {
    await s.putWorkflow(commandWorkflow("paged", "true"));
    await s.putWorkflow(commandWorkflow("paged-fail", "exit 3"));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await s.trigger("paged"));
    const failedId = await s.trigger("paged-fail");
    for (const id of ids) await s.waitForRun(id);
    await s.waitForRun(failedId, ["failed"]);

    const pages: Json[][] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page: Json = await s.json(`/api/runs?workflow=paged&limit=2${q}`);
      pages.push(page.items);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(5);
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const seen = pages.flat().map((r) => r.runId);
    expect(new Set(seen).size).toBe(5);
    expect(seen).toEqual([...ids].reverse());
    const created = pages.flat().map((r) => r.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
    for (const r of pages.flat()) {
      expect(r).toMatchObject({ workflow: { name: "paged" }, status: "succeeded" });
      expect(r.createdAt).toMatch(MICRO_ISO);
    }

    const failed = await s.json("/api/runs?status=failed&limit=100");
    expect(failed.items.map((r: Json) => r.runId)).toContain(failedId);
    expect(failed.items.every((r: Json) => r.status === "failed")).toBe(true);
    expect((await s.json("/api/runs?workflow=paged&status=failed")).items).toEqual([]);
    expect((await s.json("/api/runs?workflow=paged&status=succeeded&limit=100")).items).toHaveLength(5);
    const tab = await s.json("/api/workflows/paged/runs");
    expect(tab.items.map((r: Json) => r.runId)).toEqual([...ids].reverse());
    const all = await s.json("/api/runs?limit=100");
    expect(all.items.map((r: Json) => r.runId)).toEqual(expect.arrayContaining([...ids, failedId]));
  });

  it("limit=0, limit=101 and an unknown status are 400", async () => {
    for (const q of ["limit=0", "limit=101", "status=done", "limit=x"]) {
      const res = await s.api(`/api/runs?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
    expect((await s.api("/api/runs?limit=1")).status).toBe(200);
    expect((await s.api("/api/runs?limit=100")).status).toBe(200);
  });
});

describe("the run record", () => {
  it("has the contract's fields; currentStateName names the running node, then null", async () => {
    const gate = join(scratch, "record-gate");
    const put = await s.putWorkflow({
      name: "record-wf",
      nodes: [
        { id: "first", type: "command", command: "echo one" },
        // Sleeps until the test has seen it running, so a slow machine cannot make the test miss that moment.
        {
          id: "slow",
          type: "command",
          needs: ["first"],
          command: 'while [ ! -f "$GATE" ]; do sleep 0.1; done; sleep 1',
          env: { GATE: gate },
        },
      ],
    });
    const runId = await s.trigger("record-wf");
    const running = await s.waitFor("slow to run", async () => {
      const r = await s.json(`/api/runs/${runId}`);
      return r.currentStateName === "slow" ? r : null;
    });
    expect(running.status).toBe("running");
    expect(running.startedAt).toMatch(MICRO_ISO);
    expect(running.completedAt).toBeNull();
    await writeFile(gate, "go");

    const run = await s.waitForRun(runId);
    expect(Object.keys(run)).toEqual(
      expect.arrayContaining([
        "runId",
        "orgId",
        "workflow",
        "engineVersion",
        "status",
        "currentStateName",
        "trigger",
        "createdBy",
        "jobRunId",
        "rerunOf",
        "parameters",
        "context",
        "createdAt",
        "startedAt",
        "updatedAt",
        "completedAt",
        "error",
        "noActionReason",
      ]),
    );
    expect(run).toMatchObject({
      runId,
      orgId: "default",
      workflow: { name: "record-wf", version: 1, definitionHash: put.definitionHash },
      engineVersion: "0.1.0",
      status: "succeeded",
      currentStateName: null,
      trigger: { type: "manual", userId: "platform" },
      createdBy: "platform",
      jobRunId: null,
      rerunOf: null,
      parameters: {},
      error: null,
      noActionReason: null,
    });
    expect(run).not.toHaveProperty("cancelRequest");
    for (const f of ["createdAt", "startedAt", "updatedAt", "completedAt"]) expect(run[f], f).toMatch(MICRO_ISO);
    expect(run.createdAt <= run.startedAt).toBe(true);
    expect(run.startedAt <= run.completedAt).toBe(true);
  });
});

describe("tasks, logs and audit", () => {
  const code =
    "export default async ({ params }) => { console.log('extracting'); return { rows: 3, day: params.day }; }";
  const command = 'echo "rows=$ROWS"; echo warn >&2; echo "total:number=$ROWS" > "$STEPWISE_OUTPUT"';
  let runId: string;

  beforeAll(async () => {
    await s.putWorkflow({
      name: "evidence-wf",
      parameters: { day: { type: "string", default: "mon" } },
      nodes: [
        { id: "extract", type: "script", runtime: "node", code },
        { id: "render", type: "command", needs: ["extract"], command, env: { ROWS: "${context.rows}" } },
      ],
    });
    runId = await s.trigger("evidence-wf");
    await s.waitForRun(runId, ["succeeded"]);
  });

  it("records evidence for every task", async () => {
    const list = await s.json(`/api/runs/${runId}/tasks`);
    expect(list.items.map((t: Json) => t.nodeId)).toEqual(["extract", "render"]);
    const render = await s.json(`/api/runs/${runId}/tasks/render`);
    expect(render).toMatchObject({
      nodeId: "render",
      type: "command",
      status: "succeeded",
      attempt: 1,
      command,
      codeHash: sha(command),
      inputs: [],
      outputs: [],
      outputVariables: { total: { type: "number", value: 3 } },
      exitCode: 0,
      stdout: "rows=3\n",
      stderr: "warn\n",
    });
    expect(render.image).toMatch(/sh/);
    expect(render.imageHash).toMatch(HASH);
    expect(render.startedAt).toMatch(MICRO_ISO);
    expect(render.endedAt).toMatch(MICRO_ISO);
    expect(render.startedAt <= render.endedAt).toBe(true);
    expect(typeof render.durationMs).toBe("number");
    expect(render.durationMs).toBeGreaterThanOrEqual(0);
    expect(typeof render.host).toBe("string");
    expect(render.host.length).toBeGreaterThan(0);
    expect(render.attempts).toHaveLength(1);
    expect(render.attempts[0]).toMatchObject({ attempt: 1, status: "succeeded", exitCode: 0, stdout: "rows=3\n" });
    expect(render).not.toHaveProperty("logKey");
    expect(render.attempts[0]).not.toHaveProperty("logKey");
    expect(render).not.toHaveProperty("contextSeq");

    const extract = list.items[0];
    expect(extract).toMatchObject({
      type: "script",
      status: "succeeded",
      command: null,
      codeHash: sha(code),
      exitCode: 0,
      stdout: "extracting\n",
      outputVariables: { rows: { type: "number", value: 3 }, day: { type: "string", value: "mon" } },
    });
    expect(extract.image).toMatch(/^node v\d+/);
    expect(extract.imageHash).toMatch(HASH);

    const run = await s.json(`/api/runs/${runId}`);
    expect(run.context).toMatchObject({
      rows: { type: "number", value: 3 },
      day: { type: "string", value: "mon" },
      total: { type: "number", value: 3 },
    });

    const missing = await s.api(`/api/runs/${runId}/tasks/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
  });

  it("serves logs as text/plain, each line prefixed with its node id, filtered by ?node=", async () => {
    const res = await s.api(`/api/runs/${runId}/logs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const lines = res.text.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^(extract|render) /);
    expect(lines.filter((l) => l.startsWith("extract ") && l.endsWith("extracting"))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith("render ") && l.endsWith("rows=3"))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith("render ") && l.endsWith("warn"))).toHaveLength(1);

    const only = await s.api(`/api/runs/${runId}/logs?node=render`);
    expect(only.status).toBe(200);
    const onlyLines = only.text.trimEnd().split("\n");
    expect(onlyLines).toHaveLength(2);
    for (const line of onlyLines) expect(line.startsWith("render ")).toBe(true);

    const unknown = await s.api(`/api/runs/${runId}/logs?node=ghost`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
  });

  it("keeps a hash-chained audit trail of every transition", async () => {
    const audit = await s.json(`/api/runs/${runId}/audit`);
    const items = audit.items as Json[];
    expectIntactChainOfFormats(items);
    expect(items[0]).toMatchObject({ seq: 1, type: "run.created", from: null, to: "queued", actor: "platform" });
    expect(items[0].prevHash).toBe(GENESIS_HASH);
    const runMoves = items.filter((e) => e.type === "run.transition").map((e) => `${e.from}>${e.to}`);
    expect(runMoves).toEqual(["queued>running", "running>succeeded"]);
    for (const node of ["extract", "render"]) {
      const moves = items.filter((e) => e.type === "task.transition" && e.detail.nodeId === node);
      expect(moves.map((e) => `${e.from}>${e.to}`)).toEqual(["pending>running", "running>succeeded"]);
    }
    for (const ev of items)
      for (const k of ["seq", "at", "type", "from", "to", "actor", "detail", "prevHash", "hash"])
        expect(ev).toHaveProperty(k);
  });
});

describe("cancel", () => {
  it("stops a running sleep at once: run and task cancelled, no process of the task left", async () => {
    const pidFile = join(scratch, "cancel.pid");
    await s.putWorkflow({
      name: "cancel-wf",
      nodes: [
        {
          id: "long",
          type: "command",
          command: 'echo $$ > "$PID_FILE"; sleep 30; echo never',
          env: { PID_FILE: pidFile },
        },
        { id: "after", type: "command", needs: ["long"], command: "echo after" },
      ],
    });
    const runId = await s.trigger("cancel-wf");
    const pgid = await s.waitFor("the task's process", async () => {
      const text = await readFile(pidFile, "utf8").catch(() => "");
      return text.trim() ? Number(text) : null;
    });
    await s.waitFor("sleep to start", async () => (await processGroup(pgid)).length >= 2);

    const res = await s.api(`/api/runs/${runId}/cancel`, { method: "POST", body: { reason: "changed my mind" } });
    expect(res.status).toBe(202);
    expect(res.body.runId).toBe(runId);
    const run = await s.waitForRun(runId, ["cancelled"], { timeoutMs: 5000 });
    expect(run.completedAt).toMatch(MICRO_ISO);
    expect(run.currentStateName).toBeNull();
    await s.waitFor("the task's processes to end", async () => (await processGroup(pgid)).length === 0, 10_000);

    const long = await s.waitFor("the task to be recorded as cancelled", async () => {
      const t = await s.json(`/api/runs/${runId}/tasks/long`);
      return t.status === "cancelled" ? t : null;
    });
    expect(long.status).toBe("cancelled");
    expect((await s.json(`/api/runs/${runId}/tasks/after`)).status).toBe("skipped");

    const audit = (await s.json(`/api/runs/${runId}/audit`)).items as Json[];
    expectIntactChainOfFormats(audit);
    const req = audit.find((e) => e.type === "cancel.requested");
    expect(req).toMatchObject({ actor: "platform", detail: { reason: "changed my mind" } });
    expect(audit.some((e) => e.type === "run.transition" && e.to === "cancelled")).toBe(true);
    // The log never shows the line after the sleep.
    expect((await s.api(`/api/runs/${runId}/logs`)).text).not.toContain("never");
    // The task directory is gone too.
    expect((await readdir(s.workRoot)).filter((d) => d.startsWith(runId))).toEqual([]);
  });

  it("cancelling a terminal run is 409 and changes nothing; a bad body is 400", async () => {
    await s.putWorkflow(commandWorkflow("done-wf", "true"));
    const runId = await s.trigger("done-wf");
    const before = await s.waitForSealed(runId);
    expect(before.status).toBe("succeeded");
    const res = await s.api(`/api/runs/${runId}/cancel`, { method: "POST", body: {} });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect(await s.json(`/api/runs/${runId}`)).toEqual(before);
    const bad = await s.api(`/api/runs/${runId}/cancel`, { method: "POST", body: { reason: 5 } });
    expect(bad.status).toBe(400);
    const again = await s.api(`/api/runs/${runId}/cancel`, { method: "POST" });
    expect(again.status).toBe(409);
  });
});

describe("rerun", () => {
  it("starts a new run with the same definition and parameters; the old run is untouched", async () => {
    const v1 = await s.putWorkflow({
      name: "rerun-wf",
      parameters: { who: { type: "string", required: true }, n: { type: "number", default: 2 } },
      nodes: [{ id: "hello", type: "command", command: 'echo "v1 $WHO"', env: { WHO: "${params.who}" } }],
    });
    const runId = await s.trigger("rerun-wf", { who: "ann" });
    const before = await s.waitForSealed(runId);
    expect(before.status).toBe("succeeded");
    const beforeTasks = await s.json(`/api/runs/${runId}/tasks`);
    const beforeAudit = await s.json(`/api/runs/${runId}/audit`);
    // The workflow moves on; the rerun stays on the run's definition.
    await s.putWorkflow({
      name: "rerun-wf",
      parameters: { who: { type: "string", required: true }, n: { type: "number", default: 2 } },
      nodes: [{ id: "hello", type: "command", command: 'echo "v2 $WHO"', env: { WHO: "${params.who}" } }],
    });

    const res = await s.api(`/api/runs/${runId}/rerun`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(res.body.runId).not.toBe(runId);
    expect(res.body.status).toBe("queued");
    const again = await s.waitForRun(res.body.runId, ["succeeded"]);
    expect(again.trigger).toMatchObject({ type: "rerun", userId: "platform" });
    expect(again.rerunOf).toBe(runId);
    expect(again.workflow).toEqual({ name: "rerun-wf", version: 1, definitionHash: v1.definitionHash });
    expect(again.parameters).toEqual({ who: "ann", n: 2 });
    expect((await s.json(`/api/runs/${again.runId}/tasks/hello`)).stdout).toBe("v1 ann\n");

    expect(await s.json(`/api/runs/${runId}`)).toEqual(before);
    expect(await s.json(`/api/runs/${runId}/tasks`)).toEqual(beforeTasks);
    expect(await s.json(`/api/runs/${runId}/audit`)).toEqual(beforeAudit);
  });
});
