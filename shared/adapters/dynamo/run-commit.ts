/**
 * Commits on a run: one conditional put of the commit's audit item (the lock: it fails when another writer took
 * the next sequence number), then each record the commit changed rolled forward once, never over a newer version.
 * A writer that dies between the two leaves the audit item; the next load replays it and the next commit writes
 * its records. A writer may also leave them on purpose (deferRecords: the engine inside one Advance call): task
 * records then wait with the state and go out just before the next commit that changes the run record or puts a
 * task into or out of a human wait, or at writeRecords. Records go out oldest commit first, since a load replays
 * from the commit of the newest record it finds.
 */
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { GENESIS_HASH } from "../../domain/audit.ts";
import { applyDelta, asRecordDelta } from "../../domain/record-delta.ts";
import { isTerminalTask, type RunRecord, type TaskRecord } from "../../domain/records.ts";
import { StaleStateError } from "../../errors.ts";
import type { Change, ChangeTarget, RunState } from "../../ports/run-store.ts";
import {
  commitItem,
  eventsOfItem,
  keyOf,
  lastSeqOf,
  prepareCommit,
  rememberStored,
  viewOf,
} from "./run-audit-items.ts";
import {
  AUDIT_PREFIX,
  auditSk,
  type Item,
  isConditionFailure,
  runPk,
  strip,
  TASK_PREFIX,
  targetSk,
} from "./run-keys.ts";
import { queryAll } from "./run-query.ts";

export interface Table {
  db: DynamoDBDocumentClient;
  table: string;
}

/** A record version waiting to be written: from an audit item a load found ahead of the records, or deferred. */
interface PendingRecord {
  target: ChangeTarget;
  version: Item;
  seq: number;
  hash: string;
  /** The sequence number of the first event of the audit item (the commit) that holds `seq`. */
  commit: number;
}

// Record versions not yet written (a load saw them ahead of their items, or a commit deferred them), keyed by state.
const unapplied = new WeakMap<RunState, Map<string, PendingRecord>>();

function isTarget(v: unknown): v is ChangeTarget {
  if (!v || typeof v !== "object") return false;
  const t = v as { kind?: unknown; nodeId?: unknown };
  return t.kind === "run" || (t.kind === "task" && typeof t.nodeId === "string");
}

function isRunRecord(v: Item): v is Item & RunRecord {
  return typeof v.runId === "string" && typeof v.orgId === "string" && typeof v.status === "string";
}

function isTaskRecord(v: Item): v is Item & TaskRecord {
  return typeof v.nodeId === "string" && typeof v.status === "string";
}

/** Takes a stored record version into the state: the version is remembered, its view is what the engine sees. */
function applyInMemory(state: RunState, target: ChangeTarget, stored: Item): void {
  rememberStored(state, keyOf(target), stored);
  const version = viewOf(target, stored);
  if (target.kind === "run") {
    if (isRunRecord(version)) state.run = version;
  } else if (isTaskRecord(version)) state.tasks.set(target.nodeId, version);
}

/** The run's records and the head of its chain, with audit items ahead of the records replayed. */
export async function loadRun(t: Table, orgId: string, runId: string): Promise<RunState | null> {
  const pk = runPk(orgId, runId);
  // The records only (RUN and TASK#…, which sort between AUDIT# and WAIT), not the audit trail.
  const items = await queryAll(t.db, {
    TableName: t.table,
    KeyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
    ExpressionAttributeValues: { ":p": pk, ":a": "RUN", ":b": `${TASK_PREFIX}\uffff` },
    ConsistentRead: true,
  });
  let runItem: Item | undefined;
  const taskItems: Item[] = [];
  for (const item of items) {
    if (item.sk === "RUN") runItem = item;
    else if (String(item.sk).startsWith(TASK_PREFIX)) taskItems.push(item);
  }
  const stored = [runItem, ...taskItems].filter((i): i is Item => i !== undefined);
  const seqOf = new Map<string, number>(
    stored.map((i) => [i.sk === "RUN" ? "run" : `task:${i.nodeId}`, Number(i.seq)]),
  );
  const maxSeq = Math.max(0, ...seqOf.values());
  const later = await commitsFrom(t, pk, maxSeq);
  if (!runItem && later.length === 0) return null;

  const state: RunState = { run: {} as RunRecord, tasks: new Map(), head: { seq: 0, hash: GENESIS_HASH } };
  const storedOf = new Map<string, Item>();
  if (runItem) storedOf.set("run", strip<Item>(runItem, ["seq", "auditHash"]));
  for (const i of taskItems) storedOf.set(`task:${String(i.nodeId)}`, strip<Item>(i, ["seq", "auditHash"]));
  for (const [key, version] of storedOf)
    applyInMemory(state, key === "run" ? { kind: "run" } : { kind: "task", nodeId: key.slice(5) }, version);
  const top = stored.reduce<Item | undefined>((a, b) => (!a || Number(b.seq) > Number(a.seq) ? b : a), undefined);
  if (top) state.head = { seq: Number(top.seq), hash: String(top.auditHash) };
  const pending = new Map<string, PendingRecord>();
  for (const [ev, commit] of later.flatMap((item) => eventsOfItem(item).map((e) => [e, Number(item.seq)] as const))) {
    const seq = Number(ev.seq);
    if (!isTarget(ev.target)) throw new Error(`audit event ${seq} of ${runId} names no record`);
    const key = keyOf(ev.target);
    if (seq <= (seqOf.get(key) ?? 0)) continue; // its record already has it (or a later version)
    const base = pending.get(key)?.version ?? storedOf.get(key) ?? null;
    const version = versionOf(base, ev);
    pending.set(key, { target: ev.target, version, seq, hash: String(ev.hash), commit });
    applyInMemory(state, ev.target, version);
    if (seq > state.head.seq) state.head = { seq, hash: String(ev.hash) };
  }
  if (!runItem && !pending.has("run")) return null;
  if (pending.size) unapplied.set(state, pending);
  return state;
}

/** The record version an event produced: its delta on the version before (old single-event items: the snapshot). */
function versionOf(base: Item | null, ev: Item): Item {
  const delta = asRecordDelta(ev.delta);
  if (delta) return applyDelta(base, delta);
  if (ev.snapshot && typeof ev.snapshot === "object") return { ...(ev.snapshot as Item) };
  throw new Error(`audit event ${String(ev.seq)} carries neither a delta nor a snapshot`);
}

/**
 * The audit items from the one holding event `seq` on (newest first, read back until it): usually one item, the
 * last commit, whose records are already written.
 */
async function commitsFrom(t: Table, pk: string, seq: number): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const res = await t.db.send(
      new QueryCommand({
        TableName: t.table,
        KeyConditionExpression: "pk = :p AND begins_with(sk, :a)",
        ExpressionAttributeValues: { ":p": pk, ":a": AUDIT_PREFIX },
        ScanIndexForward: false,
        Limit: 2,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of (res.Items ?? []) as Item[]) {
      if (lastSeqOf(item) <= seq) return out.reverse();
      out.push(item);
      if (Number(item.seq) <= seq) return out.reverse();
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return out.reverse();
}

/**
 * Appends the changes as one audit item (conditional on the chain head), then rolls their records forward: at once,
 * or with `deferRecords` only when the commit changes the run record or a human wait (the run list, the
 * status the engine polls and the approvals inbox read those items), else with a later commit or writeRecords.
 */
export async function commitAll(
  t: Table,
  state: RunState,
  changes: Change[],
  at: string,
  deferRecords = false,
): Promise<void> {
  if (changes.length === 0) return;
  const { events, records } = prepareCommit(state, changes, at);
  const first = events[0];
  const last = events[events.length - 1];
  if (!first || !last) return;
  // The run list, the status the engine polls and the approvals inbox read these records: they never wait.
  const visible = [...records.values()].some(
    (r) =>
      r.target.kind === "run" ||
      waitsOnHuman(r.version.status) ||
      waitsOnHuman(state.tasks.get(r.target.nodeId)?.status),
  );
  // What earlier commits deferred is written before a change to the run shows: a run seen ended (or parked on a
  // human) has every other record in place, as verify and export read them.
  if (deferRecords && visible) await writeRecords(t, state);
  try {
    await t.db.send(
      new PutCommand({
        TableName: t.table,
        Item: commitItem(state.run.orgId, state.run.runId, events),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new StaleStateError(`audit seq ${first.seq} of ${state.run.runId} was taken`);
    throw err;
  }
  const pending = unapplied.get(state) ?? new Map<string, PendingRecord>();
  unapplied.set(state, pending);
  for (const [key, r] of records) pending.set(key, { ...r, commit: first.seq });
  for (const r of records.values()) applyInMemory(state, r.target, r.version);
  state.head = { seq: last.seq, hash: last.hash };
  if (!deferRecords || visible) await writeRecords(t, state);
}

/**
 * Writes the state's pending record versions, oldest commit first: no record of a commit is written before every
 * record of the commits before it (a load replays from the commit of the newest record). Each record is its own
 * item, conditional on its own seq, so those of one commit go together. `settledOnly` writes only the oldest
 * commits whose records are all ended tasks (versions no later commit of the call will replace), so writing them
 * early costs no extra write.
 */
export async function writeRecords(t: Table, state: RunState, settledOnly = false): Promise<void> {
  const pending = unapplied.get(state);
  if (!pending?.size) return;
  const byCommit = new Map<number, PendingRecord[]>();
  for (const p of pending.values()) byCommit.set(p.commit, [...(byCommit.get(p.commit) ?? []), p]);
  const commits = [...byCommit.keys()].sort((a, b) => a - b);
  const settled = (c: number) =>
    (byCommit.get(c) ?? []).every(
      (p) => p.target.kind === "task" && isTerminalTask(p.version.status as TaskRecord["status"]),
    );
  for (const c of commits) {
    if (settledOnly && !settled(c)) break;
    await Promise.all((byCommit.get(c) ?? []).map((p) => putRecord(t, state, p)));
    // Written: out of the pending set, unless a commit since replaced the version (then the newer one waits).
    for (const p of byCommit.get(c) ?? []) {
      const key = keyOf(p.target);
      if (pending.get(key) === p) pending.delete(key);
    }
  }
  if (pending.size === 0 && unapplied.get(state) === pending) unapplied.delete(state);
}

/** A task waiting on people: its record is in the approvals inbox's index. */
const waitsOnHuman = (status: unknown): boolean => status === "awaiting_approval" || status === "awaiting_input";

async function putRecord(t: Table, state: RunState, r: PendingRecord): Promise<void> {
  try {
    await t.db.send(
      new PutCommand({
        TableName: t.table,
        Item: recordItem(state, r),
        ConditionExpression: "attribute_not_exists(pk) OR seq < :seq",
        ExpressionAttributeValues: { ":seq": r.seq },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err; // a newer version is already there
  }
}

function runIndexKeys(run: Item): Item {
  const workflow = run.workflow as { name?: unknown } | undefined;
  const keys: Item = {
    gsi1pk: `ORG#${run.orgId}#RUNS`,
    gsi1sk: run.runId,
    gsi2pk: `ORG#${run.orgId}#WF#${workflow?.name}#RUNS`,
    gsi2sk: run.runId,
  };
  if (run.jobRunId) {
    keys.gsi3pk = `ORG#${run.orgId}#JR#${run.jobRunId}#RUNS`;
    keys.gsi3sk = run.runId;
  }
  return keys;
}

function recordItem(state: RunState, r: PendingRecord): Item {
  const { orgId, runId } = state.run;
  const base: Item = { pk: runPk(orgId, runId), sk: targetSk(r.target), ...r.version, seq: r.seq, auditHash: r.hash };
  if (r.target.kind === "run") Object.assign(base, runIndexKeys(r.version));
  if (r.target.kind === "task" && waitsOnHuman(r.version.status)) {
    // A sparse index of the org's waiting human steps: the approvals inbox.
    base.gsi3pk = `ORG#${orgId}#HUMAN`;
    base.gsi3sk = `${r.version.waitingSince ?? ""}#${runId}#${r.target.nodeId}`;
  }
  return base;
}

/** The flat list of a run's audit events, in order, from its audit items. */
export async function auditEvents(t: Table, orgId: string, runId: string): Promise<Item[]> {
  const items = await queryAll(t.db, {
    TableName: t.table,
    KeyConditionExpression: "pk = :p AND begins_with(sk, :a)",
    ExpressionAttributeValues: { ":p": runPk(orgId, runId), ":a": AUDIT_PREFIX },
    ConsistentRead: true,
  });
  return items.flatMap(eventsOfItem);
}

export { auditSk };
