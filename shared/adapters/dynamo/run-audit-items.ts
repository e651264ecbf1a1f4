/**
 * The audit item of a commit: one item per commit, keyed by the sequence number of its first event, holding every
 * event of the commit. The first event's attributes are the item's own; the rest follow in `more`, in order.
 * Each event carries the delta it made to its record and the hash of the record version it produced.
 */
import { chainEvent, plainRecord, type StoredAuditEvent } from "../../domain/audit.ts";
import { recordDelta } from "../../domain/record-delta.ts";
import type { RunRecord, TaskRecord } from "../../domain/records.ts";
import type { Change, ChangeTarget, RunState } from "../../ports/run-store.ts";
import { auditSk, type Item, runPk } from "./run-keys.ts";

/** The events of a commit, chained on from the state's head, with the record versions they produced. */
export interface PreparedCommit {
  events: StoredAuditEvent[];
  /** The final version of each record the commit changed, with the event that produced it. */
  records: Map<string, { target: ChangeTarget; version: Item; seq: number; hash: string }>;
}

const keyOf = (t: ChangeTarget): string => (t.kind === "run" ? "run" : `task:${t.nodeId}`);

/** The record's version before the commit; none before the run's first event (its creation). */
const currentOf = (state: RunState, t: ChangeTarget): RunRecord | TaskRecord | undefined =>
  state.head.seq === 0 ? undefined : t.kind === "run" ? state.run : state.tasks.get(t.nodeId);

/** Chains `changes` onto the state's head (the state is not changed). */
export function prepareCommit(state: RunState, changes: Change[], at: string): PreparedCommit {
  const events: StoredAuditEvent[] = [];
  const records: PreparedCommit["records"] = new Map();
  let head = state.head;
  for (const change of changes) {
    const key = keyOf(change.target);
    const current = currentOf(state, change.target);
    const before = records.get(key)?.version ?? (current ? plainRecord(current) : null);
    const version = plainRecord(change.next);
    const { body, hash } = chainEvent(head, change.event, version, at);
    events.push({ ...body, hash, target: change.target, delta: recordDelta(before, version) });
    records.set(key, { target: change.target, version, seq: body.seq, hash });
    head = { seq: body.seq, hash };
  }
  return { events, records };
}

/** The one item a commit writes to the audit trail. */
export function commitItem(orgId: string, runId: string, events: StoredAuditEvent[]): Item {
  const [first, ...more] = events;
  if (!first) throw new Error("a commit has at least one event");
  return { pk: runPk(orgId, runId), sk: auditSk(first.seq), ...first, ...(more.length ? { more } : {}) };
}

/** The events an audit item holds, in order (table keys removed); an item of the old one-event layout has one. */
export function eventsOfItem(item: Item): Item[] {
  const { pk: _p, sk: _s, more, ...first } = item;
  return [first, ...(Array.isArray(more) ? (more as Item[]) : [])];
}

/** The sequence number of an audit item's last event. */
export function lastSeqOf(item: Item): number {
  const more = Array.isArray(item.more) ? (item.more as Item[]) : [];
  return Number(more.length ? more[more.length - 1]?.seq : item.seq);
}
