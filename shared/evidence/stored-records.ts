/**
 * Stored run material read back for verification: records and audit events as the store or a bundle holds them,
 * possibly edited into any shape. These guards say what is well formed; verification reports the rest.
 */
import type { AuditEventBody } from "../domain/audit.ts";
import { applyDelta, asRecordDelta } from "../domain/record-delta.ts";
import type { RunRecord, TaskRecord } from "../domain/records.ts";

type Item = Record<string, unknown>;

/** An audit event as stored: its chained body and hash, and what it did to its record. */
export type StoredEvent = AuditEventBody & { hash: string; target?: unknown; delta?: unknown; snapshot?: unknown };

const isObject = (v: unknown): v is Item => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";

export function isStoredEvent(v: unknown): v is StoredEvent {
  if (!isObject(v)) return false;
  return (
    typeof v.seq === "number" &&
    typeof v.at === "string" &&
    typeof v.type === "string" &&
    isStringOrNull(v.from) &&
    isStringOrNull(v.to) &&
    typeof v.actor === "string" &&
    isObject(v.detail) &&
    typeof v.prevHash === "string" &&
    typeof v.snapshotHash === "string" &&
    typeof v.hash === "string"
  );
}

export function isRunRecord(v: unknown): v is RunRecord {
  return (
    isObject(v) &&
    typeof v.runId === "string" &&
    typeof v.orgId === "string" &&
    isObject(v.workflow) &&
    typeof v.workflow.definitionHash === "string"
  );
}

export function isTaskRecord(v: unknown): v is TaskRecord {
  return isObject(v) && typeof v.nodeId === "string" && (v.attempts === undefined || Array.isArray(v.attempts));
}

/** The well-formed events of an audit trail in sequence order, and a problem for each that is not. */
export function storedEvents(audit: unknown[]): { events: StoredEvent[]; problems: string[] } {
  const events: StoredEvent[] = [];
  const problems: string[] = [];
  audit.forEach((ev, i) => {
    if (isStoredEvent(ev)) events.push(ev);
    else problems.push(`audit event ${isObject(ev) && typeof ev.seq === "number" ? ev.seq : `#${i + 1}`} is malformed`);
  });
  events.sort((a, b) => a.seq - b.seq);
  return { events, problems };
}

/** What a record version is of, read from its content (the stored `target` is not covered by the hash). */
export function versionKey(version: unknown): string | null {
  if (!isObject(version)) return null;
  if (typeof version.nodeId === "string") return `task:${version.nodeId}`;
  if (typeof version.runId === "string") return "run";
  return null;
}

/** The record an event's stored `target` names. */
export function targetKey(t: unknown): string | null {
  if (!isObject(t)) return null;
  if (t.kind === "run") return "run";
  if (t.kind === "task" && typeof t.nodeId === "string") return `task:${t.nodeId}`;
  return null;
}

/**
 * The record version each event produced, rebuilt from the deltas in order (each on the version its record had
 * before; an event of the older layout carries the whole version as `snapshot`). Null where it cannot be rebuilt.
 */
export function eventVersions(events: StoredEvent[]): Array<Item | null> {
  const current = new Map<string, Item>();
  return events.map((ev) => {
    if (isObject(ev.snapshot) && ev.delta === undefined) {
      const key = versionKey(ev.snapshot);
      if (key) current.set(key, ev.snapshot);
      return ev.snapshot;
    }
    const delta = asRecordDelta(ev.delta);
    const key = targetKey(ev.target);
    if (!delta || !key) return null;
    const version = applyDelta(current.get(key) ?? null, delta);
    current.set(key, version);
    return version;
  });
}

/** The well-formed task records among stored items (an edited one is left to verification to report). */
export function taskRecordsOf(items: unknown[]): TaskRecord[] {
  const out: TaskRecord[] = [];
  for (const t of items) if (isTaskRecord(t)) out.push(t);
  return out;
}
