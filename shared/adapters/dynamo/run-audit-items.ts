/**
 * The audit item of a commit: one item per commit, keyed by the sequence number of its first event, holding every
 * event of the commit. The first event's attributes are the item's own; the rest follow in `more`, in order.
 * Each event carries the delta it made to its record and the hash of the record version it produced.
 */
import { auditEventHash, chainEvent, plainRecord, type StoredAuditEvent } from "../../domain/audit.ts";
import { recordDelta } from "../../domain/record-delta.ts";
import type { RunRecord, TaskRecord } from "../../domain/records.ts";
import { storedTask, taskView } from "../../domain/stored-task.ts";
import type { Change, ChangeTarget, RunState } from "../../ports/run-store.ts";
import { auditSk, type Item, runPk } from "./run-keys.ts";

/** The events of a commit, chained on from the state's head, with the record versions they produced. */
export interface PreparedCommit {
  events: StoredAuditEvent[];
  /** The final version of each record the commit changed, with the event that produced it. */
  records: Map<string, { target: ChangeTarget; version: Item; seq: number; hash: string }>;
}

export const keyOf = (t: ChangeTarget): string => (t.kind === "run" ? "run" : `task:${t.nodeId}`);

// The stored form of each record of a loaded or committed state, as the table holds it: the base of the next delta.
const storedVersions = new WeakMap<RunState, Map<string, Item>>();

/** Remembers the stored form of a record of the state (as loaded, replayed or committed). */
export function rememberStored(state: RunState, key: string, version: Item): void {
  const m = storedVersions.get(state) ?? new Map<string, Item>();
  storedVersions.set(state, m);
  m.set(key, version);
}

/** A record version as stored and hashed (a task keeps its current attempt once: see stored-task.ts). */
export const storedForm = (t: ChangeTarget, record: unknown): Item =>
  t.kind === "task" ? storedTask(plainRecord(record)) : plainRecord(record);

/** What the engine and the API see of a stored record version. */
export const viewOf = (t: ChangeTarget, version: Item): Item => (t.kind === "task" ? taskView(version) : version);

/** The record's stored version before the commit; none before the run's first event (its creation). */
function storedBefore(state: RunState, t: ChangeTarget): Item | null {
  if (state.head.seq === 0) return null;
  const remembered = storedVersions.get(state)?.get(keyOf(t));
  if (remembered) return remembered;
  const current: RunRecord | TaskRecord | undefined = t.kind === "run" ? state.run : state.tasks.get(t.nodeId);
  return current ? storedForm(t, current) : null;
}

/** Chains `changes` onto the state's head (the state is not changed). */
export function prepareCommit(state: RunState, changes: Change[], at: string): PreparedCommit {
  const events: StoredAuditEvent[] = [];
  const records: PreparedCommit["records"] = new Map();
  let head = state.head;
  for (const change of changes) {
    const key = keyOf(change.target);
    const before = records.get(key)?.version ?? storedBefore(state, change.target);
    const version = storedForm(change.target, change.next);
    const { body, hash } = chainEvent(head, change.event, version, at);
    const delta = recordDelta(before, version, change.target.kind === "task");
    events.push({ ...body, hash, target: change.target, delta });
    records.set(key, { target: change.target, version, seq: body.seq, hash });
    head = { seq: body.seq, hash };
  }
  return { events, records };
}

/**
 * The one item a commit writes to the audit trail. An event in `more` leaves out what can be rebuilt from the
 * event before it: its prevHash (that event's hash), its `at` and `actor` when the same, its target when it is the
 * task its detail names, and (all but the last event) its own hash, which the next load recomputes from its body:
 * the last event's stored hash still seals every event of the item. eventsOfItem puts them back.
 */
export function commitItem(orgId: string, runId: string, events: StoredAuditEvent[]): Item {
  const [first, ...rest] = events;
  if (!first) throw new Error("a commit has at least one event");
  let prev: StoredAuditEvent = first;
  const more = rest.map((ev, i) => {
    const { prevHash, at, actor, target, hash, ...kept } = ev;
    const short: Item = { ...kept };
    if (prevHash !== prev.hash) short.prevHash = prevHash;
    if (at !== prev.at) short.at = at;
    if (actor !== prev.actor) short.actor = actor;
    if (!isNamedTask(target, ev.detail)) short.target = target;
    if (i === rest.length - 1) short.hash = hash;
    prev = ev;
    return short;
  });
  return { pk: runPk(orgId, runId), sk: auditSk(first.seq), ...first, ...(more.length ? { more } : {}) };
}

/** The target is the task the event's detail names (setTask's events). */
function isNamedTask(target: unknown, detail: unknown): boolean {
  const t = target as { kind?: unknown; nodeId?: unknown } | null;
  const nodeId = (detail as { nodeId?: unknown } | null)?.nodeId;
  return !!t && t.kind === "task" && typeof nodeId === "string" && t.nodeId === nodeId && Object.keys(t).length === 2;
}

/** The events an audit item holds, in order (table keys removed); an item of the old one-event layout has one. */
export function eventsOfItem(item: Item): Item[] {
  const { pk: _p, sk: _s, more, ...first } = item;
  const out: Item[] = [first];
  for (const short of Array.isArray(more) ? (more as Item[]) : []) {
    const prev = out[out.length - 1] as Item;
    // Written without what the event before says (see commitItem); an older item spells each event out.
    const ev: Item = { prevHash: prev.hash, at: prev.at, actor: prev.actor, ...short };
    const detail = (ev.detail ?? {}) as Record<string, unknown>;
    if (ev.target === undefined && typeof detail.nodeId === "string")
      ev.target = { kind: "task", nodeId: detail.nodeId };
    if (ev.hash === undefined)
      ev.hash = auditEventHash({
        seq: Number(ev.seq),
        at: String(ev.at),
        type: String(ev.type),
        from: (ev.from ?? null) as string | null,
        to: (ev.to ?? null) as string | null,
        actor: String(ev.actor),
        detail,
        prevHash: String(ev.prevHash),
        snapshotHash: String(ev.snapshotHash),
      });
    out.push(ev);
  }
  return out;
}

/** The sequence number of an audit item's last event. */
export function lastSeqOf(item: Item): number {
  const more = Array.isArray(item.more) ? (item.more as Item[]) : [];
  return Number(more.length ? more[more.length - 1]?.seq : item.seq);
}
