// The audit trail as one chained item per commit against dynalite: a run's trail verifies, an edited delta is
// found, a batched commit is all-or-nothing when another writer moved the chain first, and deferred records are
// seen by every load and written once, oldest commit first.
import { beforeAll, describe, expect, it } from "vitest";
import type { DynamoRunStore } from "../../shared/adapters/dynamo/run-store.ts";
import type { TaskRecord } from "../../shared/domain/records.ts";
import { StaleStateError } from "../../shared/errors.ts";
import type { Change } from "../../shared/ports/run-store.ts";
import { type Json, runToEnd, useTestStack } from "../evidence/evidence-helpers.ts";
import { expectIntactChain } from "../support/audit-chain.ts";

const FAN = 4;
const DIAMOND = {
  name: "chained-diamond",
  nodes: [
    { id: "start", type: "command", command: "echo start" },
    ...Array.from({ length: FAN }, (_, i) => ({
      id: `fan-${i + 1}`,
      type: "command",
      needs: ["start"],
      command: `echo fan-${i + 1}`,
    })),
    { id: "join", type: "command", needs: Array.from({ length: FAN }, (_, i) => `fan-${i + 1}`), command: "echo join" },
  ],
};

const t = useTestStack();
const store = () => t.stack.deps.store as DynamoRunStore;
/** The sort keys of the records the run store puts while `fn` runs, in the order they were sent. */
let recording: string[] | null = null;
async function recordPuts(fn: () => Promise<unknown>): Promise<string[]> {
  recording = [];
  try {
    await fn();
    return recording;
  } finally {
    recording = null;
  }
}
beforeAll(() => {
  t.stack.sdkClients.dynamodb.addHook("build", "recordPuts", async (call, next) => {
    const raw = (call.request as { body?: unknown } | undefined)?.body;
    const body = raw instanceof Uint8Array ? Buffer.from(raw).toString("utf8") : raw;
    if (recording && call.command === "PutItemCommand" && typeof body === "string") {
      const sk = (JSON.parse(body) as { Item?: { sk?: { S?: string } } }).Item?.sk?.S;
      if (sk && !sk.startsWith("AUDIT#")) recording.push(sk);
    }
    return next();
  });
});

/** Waits until the run's execution has ended (its last records are written by then). */
async function settled(runId: string): Promise<void> {
  while (t.stack.orchestrator.runs.isRunning(runId)) await new Promise((r) => setTimeout(r, 5));
}

const auditItems = async (runId: string) =>
  (await store().rawRunItems("default", runId)).filter((i) => String(i.sk).startsWith("AUDIT#"));

describe("chained commits", () => {
  it("keeps one audit item per commit, the fan-out's starts in one, and the trail verifies", async () => {
    const run = await runToEnd(t.api, DIAMOND);
    expect(run.status).toBe("succeeded");
    const audit = (await t.api.get(`/api/runs/${run.runId}/audit`)).items as Json[];
    expectIntactChain(audit);
    const items = await auditItems(run.runId);
    expect(items.length).toBeLessThan(audit.length);
    // The commit after `start` finished starts every fan node at once: one item, one event per node.
    const starts = items.find((i) => Array.isArray(i.more) && i.more.length === FAN - 1);
    if (!starts) throw new Error("no audit item holds the fan-out's starts");
    expect([starts, ...(starts.more as Json[])].map((e: Json) => e.detail.nodeId).sort()).toEqual(
      Array.from({ length: FAN }, (_, i) => `fan-${i + 1}`),
    );
    // Events carry deltas, not whole records.
    expect(items.every((i) => i.snapshot === undefined && typeof i.delta === "object")).toBe(true);
    const report = await t.api.get(`/api/runs/${run.runId}/verify`);
    expect(report).toMatchObject({ valid: true, problems: [], sealed: true });
    expect(report.checked.auditEvents).toBe(audit.length);
  }, 60_000);

  it("finds one event's delta edited in the table", async () => {
    const run = await runToEnd(t.api, DIAMOND);
    const item = structuredClone((await auditItems(run.runId)).find((i) => Array.isArray(i.more)));
    if (!item) throw new Error("no batched audit item");
    const edited = (item.more as Json[])[0];
    edited.delta.set.status = "failed";
    await store().putItem(item);
    const report = await t.api.get(`/api/runs/${run.runId}/verify`);
    expect(report.valid).toBe(false);
    expect(report.problems).toContain(
      `audit event ${edited.seq}: the record version its delta gives does not match its snapshotHash`,
    );
  }, 60_000);

  it("commits a batch all or nothing when another writer took the next sequence number", async () => {
    const run = await runToEnd(t.api, DIAMOND);
    const mine = await store().loadRun("default", run.runId);
    const theirs = await store().loadRun("default", run.runId);
    if (!mine || !theirs) throw new Error("run not found");
    const note = (s: typeof mine, nodeId: string, text: string): Change => {
      const cur = s.tasks.get(nodeId) as TaskRecord;
      return {
        target: { kind: "task", nodeId },
        event: { type: "task.note", from: cur.status, to: cur.status, actor: "test", detail: { nodeId, text } },
        next: { ...cur, host: text },
      };
    };
    const before = await store().rawRunItems("default", run.runId);
    await store().commit(theirs, note(theirs, "join", "theirs"), new Date().toISOString());
    const batch = ["fan-1", "fan-2", "fan-3"].map((n) => note(mine, n, "mine"));
    await expect(store().commitAll(mine, batch, new Date().toISOString())).rejects.toBeInstanceOf(StaleStateError);
    // Nothing of the refused batch is stored: its records are as they were, the trail has only their event more.
    const after = await store().rawRunItems("default", run.runId);
    for (const n of ["fan-1", "fan-2", "fan-3"])
      expect(after.find((i) => i.sk === `TASK#${n}`)).toEqual(before.find((i) => i.sk === `TASK#${n}`));
    expect(after.find((i) => i.sk === "TASK#join")?.host).toBe("theirs");
    const audit = (await t.api.get(`/api/runs/${run.runId}/audit`)).items as Json[];
    expectIntactChain(audit);
    expect(audit.filter((e) => e.type === "task.note").map((e) => e.detail.text)).toEqual(["theirs"]);
    // Reloaded, the same batch goes through as one more item and each record is rolled forward.
    const fresh = await store().loadRun("default", run.runId);
    if (!fresh) throw new Error("run not found");
    await store().commitAll(
      fresh,
      ["fan-1", "fan-2", "fan-3"].map((n) => note(fresh, n, "mine")),
      new Date().toISOString(),
    );
    const final = await store().rawRunItems("default", run.runId);
    for (const n of ["fan-1", "fan-2", "fan-3"]) expect(final.find((i) => i.sk === `TASK#${n}`)?.host).toBe("mine");
    const trail = (await t.api.get(`/api/runs/${run.runId}/audit`)).items as Json[];
    expectIntactChain(trail);
    expect(trail.length).toBe(audit.length + 3);
  }, 60_000);

  it("writes each task record once per Advance call: the run's commits defer them to the run's own changes", async () => {
    let runId = "";
    const puts = await recordPuts(async () => {
      runId = (await runToEnd(t.api, DIAMOND)).runId;
      await settled(runId);
    });
    const taskPuts = puts.filter((sk) => sk.startsWith("TASK#"));
    expect(taskPuts.sort()).toEqual(DIAMOND.nodes.map((n) => `TASK#${n.id}`).sort());
    // The run record goes last: a load replays from the commit of the newest record it finds.
    expect(puts[puts.length - 1]).toBe("RUN");
    const report = await t.api.get(`/api/runs/${runId}/verify`);
    expect(report).toMatchObject({ valid: true, problems: [] });
  }, 60_000);

  it("lets every load see deferred records, then writes them once, oldest commit first", async () => {
    const run = await runToEnd(t.api, DIAMOND);
    await settled(run.runId);
    const mine = await store().loadRun("default", run.runId);
    if (!mine) throw new Error("run not found");
    const note = (nodeId: string, text: string): Change => {
      const cur = mine.tasks.get(nodeId) as TaskRecord;
      return {
        target: { kind: "task", nodeId },
        event: { type: "task.note", from: cur.status, to: cur.status, actor: "test", detail: { nodeId, text } },
        next: { ...cur, host: text },
      };
    };
    const at = () => new Date().toISOString();
    const stored = async (nodeId: string) =>
      (await store().rawRunItems("default", run.runId)).find((i) => i.sk === `TASK#${nodeId}`)?.host;
    const before = await stored("fan-1");
    const deferred = await recordPuts(async () => {
      await store().commitAll(mine, [note("fan-1", "first")], at(), { deferRecords: true });
      await store().commitAll(mine, [note("fan-2", "second")], at(), { deferRecords: true });
      await store().commitAll(mine, [note("fan-1", "third")], at(), { deferRecords: true });
    });
    expect(deferred).toEqual([]);
    expect(await stored("fan-1")).toBe(before);
    // Another reader sees them all, replayed from the trail.
    const seen = await store().loadRun("default", run.runId);
    expect(seen?.tasks.get("fan-1")?.host).toBe("third");
    expect(seen?.tasks.get("fan-2")?.host).toBe("second");
    // Written at last: fan-1's first version never, fan-2 (an older commit) before fan-1's last.
    const written = await recordPuts(() => store().writeRecords(mine));
    expect(written).toEqual(["TASK#fan-2", "TASK#fan-1"]);
    expect(await stored("fan-1")).toBe("third");
    expect(await stored("fan-2")).toBe("second");
    expect(await recordPuts(() => store().writeRecords(mine))).toEqual([]);
    // A change to the run record writes what waits with it, and itself last.
    const runNote: Change = {
      target: { kind: "run" },
      event: { type: "run.note", from: mine.run.status, to: mine.run.status, actor: "test", detail: {} },
      next: { ...mine.run, updatedAt: at() },
    };
    const withRun = await recordPuts(async () => {
      await store().commitAll(mine, [note("fan-3", "fourth")], at(), { deferRecords: true });
      await store().commitAll(mine, [runNote], at(), { deferRecords: true });
    });
    expect(withRun).toEqual(["TASK#fan-3", "RUN"]);
    // Early writes take only the oldest commits whose records are ended tasks: a running one holds back the rest.
    const as = (nodeId: string, status: TaskRecord["status"], text: string): Change => {
      const c = note(nodeId, text);
      return { ...c, next: { ...(c.next as TaskRecord), status } };
    };
    await store().commitAll(mine, [as("fan-4", "running", "again")], at(), { deferRecords: true });
    await store().commitAll(mine, [note("fan-3", "fifth")], at(), { deferRecords: true });
    expect(await recordPuts(() => store().writeRecords(mine, { settledOnly: true }))).toEqual([]);
    await store().commitAll(mine, [as("fan-4", "succeeded", "sixth")], at(), { deferRecords: true });
    expect(await recordPuts(() => store().writeRecords(mine, { settledOnly: true }))).toEqual([
      "TASK#fan-3",
      "TASK#fan-4",
    ]);
    expect(await stored("fan-4")).toBe("sixth");
    // A task going into or out of a human wait is written at once: the approvals inbox reads the record.
    expect(
      await recordPuts(() =>
        store().commitAll(mine, [as("fan-2", "awaiting_approval", "asks")], at(), { deferRecords: true }),
      ),
    ).toEqual(["TASK#fan-2"]);
    expect(
      await recordPuts(() =>
        store().commitAll(mine, [as("fan-2", "succeeded", "timed out")], at(), { deferRecords: true }),
      ),
    ).toEqual(["TASK#fan-2"]);
    expectIntactChain((await t.api.get(`/api/runs/${run.runId}/audit`)).items as Json[]);
  }, 60_000);
});
