import { canonicalJson } from "./hash.ts";

type Item = Record<string, unknown>;

/**
 * How one record version differs from the one before it: the top-level attributes set (new or changed) and the
 * ones removed. An audit event stores this instead of the whole version; the version's hash stays in the event.
 */
export interface RecordDelta {
  set: Item;
  unset: string[];
  /** "task": the delta of a new task record, taken against BLANK_TASK (not against nothing). */
  base?: "task";
}

/**
 * The attributes every new task record starts with, so that a task's first delta (its start) need not spell them
 * out. Fixed for good: stored deltas with base "task" are read against exactly this, so it is spelled out here
 * rather than taken from emptyAttempt (task-records.ts), which may gain fields without changing stored deltas.
 */
const BLANK_TASK: Readonly<Item> = Object.freeze({
  image: null,
  imageHash: null,
  command: null,
  codeHash: null,
  inputs: [],
  outputs: [],
  outputVariables: {},
  exitCode: null,
  stdout: "",
  stderr: "",
  logKey: null,
  logSha256: null,
  startedAt: null,
  endedAt: null,
  durationMs: null,
  host: null,
  error: null,
  attempts: [],
  contextSeq: null,
});

/**
 * The delta that turns `prev` (null: no version yet) into `next`; both are plain JSON values. A new task record
 * (`newTask`, no `prev`) is taken against BLANK_TASK.
 */
export function recordDelta(prev: Item | null, next: Item, newTask = false): RecordDelta {
  const set: Item = {};
  const unset: string[] = [];
  const blank = prev === null && newTask;
  const before = prev ?? (blank ? BLANK_TASK : {});
  for (const [k, v] of Object.entries(next))
    if (!(k in before) || canonicalJson(before[k]) !== canonicalJson(v)) set[k] = v;
  for (const k of Object.keys(before)) if (!(k in next)) unset.push(k);
  return blank ? { set, unset, base: "task" } : { set, unset };
}

/** The version a delta gives from `prev` (null: no version yet). */
export function applyDelta(prev: Item | null, delta: RecordDelta): Item {
  const out: Item = delta.base === "task" ? structuredClone({ ...BLANK_TASK }) : { ...(prev ?? {}) };
  for (const k of delta.unset) delete out[k];
  return Object.assign(out, structuredClone(delta.set));
}

/** A stored delta read back: well formed, or null (an edited record is reported, never trusted). */
export function asRecordDelta(value: unknown): RecordDelta | null {
  if (!value || typeof value !== "object") return null;
  const { set, unset, base } = value as { set?: unknown; unset?: unknown; base?: unknown };
  if (!set || typeof set !== "object" || Array.isArray(set)) return null;
  if (!Array.isArray(unset) || !unset.every((k) => typeof k === "string")) return null;
  if (base !== undefined && base !== "task") return null;
  return base === "task" ? { set: set as Item, unset, base } : { set: set as Item, unset };
}
