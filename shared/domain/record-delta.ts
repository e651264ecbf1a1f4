import { canonicalJson } from "./hash.ts";

type Item = Record<string, unknown>;

/**
 * How one record version differs from the one before it: the top-level attributes set (new or changed) and the
 * ones removed. An audit event stores this instead of the whole version; the version's hash stays in the event.
 */
export interface RecordDelta {
  set: Item;
  unset: string[];
}

/** The delta that turns `prev` (null: no version yet) into `next`; both are plain JSON values. */
export function recordDelta(prev: Item | null, next: Item): RecordDelta {
  const set: Item = {};
  const unset: string[] = [];
  const before = prev ?? {};
  for (const [k, v] of Object.entries(next))
    if (!(k in before) || canonicalJson(before[k]) !== canonicalJson(v)) set[k] = v;
  for (const k of Object.keys(before)) if (!(k in next)) unset.push(k);
  return { set, unset };
}

/** The version a delta gives from `prev` (null: no version yet). */
export function applyDelta(prev: Item | null, delta: RecordDelta): Item {
  const out: Item = { ...(prev ?? {}) };
  for (const k of delta.unset) delete out[k];
  return Object.assign(out, structuredClone(delta.set));
}

/** A stored delta read back: well formed, or null (an edited record is reported, never trusted). */
export function asRecordDelta(value: unknown): RecordDelta | null {
  if (!value || typeof value !== "object") return null;
  const { set, unset } = value as { set?: unknown; unset?: unknown };
  if (!set || typeof set !== "object" || Array.isArray(set)) return null;
  if (!Array.isArray(unset) || !unset.every((k) => typeof k === "string")) return null;
  return { set: set as Item, unset };
}
