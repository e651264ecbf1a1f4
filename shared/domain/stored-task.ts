/**
 * A task record as stored: the current attempt's fields live once, at the top level, and `attempts` holds the
 * attempts before it. `lastAttempt` says how the last attempt differs from the top-level fields (`set`: its own
 * values, `omit`: top-level fields it lacks); the API view puts it back at the end of `attempts`. The stored form
 * is what the table holds and what audit events hash and carry deltas of. A record without `lastAttempt` (written
 * before this layout, or one whose last attempt could not be folded exactly) is its own view.
 */
import { canonicalJson } from "./hash.ts";

type Item = Record<string, unknown>;

/** The attempt-level fields, in the order an attempt record lists them. */
const ATTEMPT_KEYS = [
  "attempt",
  "status",
  "image",
  "imageHash",
  "command",
  "codeHash",
  "inputs",
  "outputs",
  "outputVariables",
  "maskedOutputs",
  "exitCode",
  "stdout",
  "stderr",
  "logKey",
  "logInline",
  "logSha256",
  "startedAt",
  "endedAt",
  "durationMs",
  "host",
  "error",
] as const;
const ATTEMPT_KEY_SET = new Set<string>(ATTEMPT_KEYS);
const MARKER = "lastAttempt";

const isObject = (v: unknown): v is Item => typeof v === "object" && v !== null && !Array.isArray(v);

/** The stored form of a task record view (a plain JSON value); the view itself when folding would lose anything. */
export function storedTask(view: Item): Item {
  const attempts = view.attempts;
  if (!Array.isArray(attempts) || MARKER in view) return view;
  const last = attempts[attempts.length - 1];
  if (!isObject(last)) return view;
  const set: Item = {};
  for (const [k, v] of Object.entries(last))
    if (!ATTEMPT_KEY_SET.has(k) || !(k in view) || canonicalJson(view[k]) !== canonicalJson(v)) set[k] = v;
  const omit = ATTEMPT_KEYS.filter((k) => k in view && !(k in last));
  const marker: Item = {};
  if (Object.keys(set).length) marker.set = set;
  if (omit.length) marker.omit = omit;
  const stored = { ...view, attempts: attempts.slice(0, -1), [MARKER]: marker };
  // Only an exact fold is kept: the view read back must be the same JSON, key order included.
  return JSON.stringify(taskView(stored)) === JSON.stringify(view) ? stored : view;
}

/** The task record a stored item stands for (the API's view): the last attempt put back into `attempts`. */
export function taskView(stored: Item): Item {
  const marker = stored[MARKER];
  if (!isObject(marker) || !Array.isArray(stored.attempts)) return stored;
  const set = isObject(marker.set) ? marker.set : {};
  const omit = new Set(Array.isArray(marker.omit) ? marker.omit : []);
  const last: Item = {};
  for (const k of ATTEMPT_KEYS) {
    if (k in set) last[k] = set[k];
    else if (k in stored && !omit.has(k)) last[k] = stored[k];
  }
  for (const [k, v] of Object.entries(set)) if (!(k in last)) last[k] = v;
  const { [MARKER]: _m, ...rest } = stored;
  return { ...rest, attempts: [...stored.attempts, last] };
}
