import { createReadStream } from "node:fs";
import type { TypedValue } from "../domain/records.ts";

/** What a secret value is replaced with wherever the engine would otherwise store it (logs, context, errors). */
export const SECRET_MASK = "********";
/** Shorter values are not masked: masking one or two characters would mangle ordinary text and match every file. */
export const MIN_SECRET_LENGTH = 3;

/** A run's secrets worth masking as (name, value), longest value first so a secret inside another one is not half-masked. */
export function maskableSecrets(secrets: Record<string, string>): Array<{ name: string; value: string }> {
  const seen = new Set<string>();
  return Object.entries(secrets)
    .filter(([, value]) => value.length >= MIN_SECRET_LENGTH)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => b.value.length - a.value.length)
    .filter((s) => {
      if (seen.has(s.value)) return false;
      seen.add(s.value);
      return true;
    });
}

/** A function that replaces every occurrence of the run's secret values in a text with the mask. */
export function secretMasker(secrets: Record<string, string>): (text: string) => string {
  const values = maskableSecrets(secrets).map((s) => s.value);
  if (!values.length) return (text) => text;
  return (text) => values.reduce((acc, v) => (acc.includes(v) ? acc.split(v).join(SECRET_MASK) : acc), text);
}

/**
 * Drops what a truncated text ends with when that could be the start of a secret: a log head cut mid-value would
 * otherwise keep the value's first characters, which the mask never sees whole.
 */
export function dropPartialSecret(text: string, secrets: Record<string, string>): string {
  let cut = 0;
  for (const { value } of maskableSecrets(secrets)) {
    for (let k = Math.min(value.length - 1, text.length); k > cut; k--) {
      if (text.endsWith(value.slice(0, k))) {
        cut = k;
        break;
      }
    }
  }
  return cut ? text.slice(0, text.length - cut) : text;
}

/**
 * Masks secret values in a task's output variables: in strings, in the text of numbers, and in strings and keys
 * nested in JSON values. Returns the masked variables and the names of those that held a secret (never the value).
 */
export function maskOutputVariables(
  vars: Record<string, TypedValue>,
  secrets: Record<string, string>,
): { vars: Record<string, TypedValue>; masked: string[] } {
  if (!maskableSecrets(secrets).length) return { vars, masked: [] };
  const mask = secretMasker(secrets);
  const out: Record<string, TypedValue> = {};
  const masked: string[] = [];
  for (const [key, typed] of Object.entries(vars)) {
    let changed = false;
    const deep = (v: unknown): unknown => {
      if (typeof v === "string") {
        const m = mask(v);
        if (m !== v) changed = true;
        return m;
      }
      if (typeof v === "number") {
        // A number that spells the value (an OTP returned as a number) is the value: it becomes the masked text.
        const m = mask(String(v));
        if (m === String(v)) return v;
        changed = true;
        return m;
      }
      if (Array.isArray(v)) return v.map(deep);
      if (v && typeof v === "object")
        return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [deep(k), deep(x)]));
      return v;
    };
    const name = mask(key);
    const value = deep(typed.value);
    if (name !== key) changed = true;
    if (!changed) {
      out[key] = typed;
      continue;
    }
    masked.push(name);
    // A top-level number turned into masked text is a string now; json values keep their type.
    out[name] = { type: typed.type === "json" ? "json" : typeof value === "string" ? "string" : typed.type, value };
  }
  return { vars: out, masked };
}

/**
 * Finds secret values in a byte stream fed chunk by chunk, holding only the last few bytes of the previous chunk so
 * a value split across two chunks is still seen: memory stays flat whatever the size of the stream.
 */
export class SecretScanner {
  private readonly patterns: Array<{ name: string; bytes: Buffer }> = [];
  /** How many bytes a value split across chunks can have in the chunks before the one that completes it. */
  readonly keep: number;
  private tail: Buffer = Buffer.alloc(0);
  /** The name of the first secret found, or null. */
  found: string | null = null;

  constructor(secrets: Record<string, string>) {
    for (const { name, value } of maskableSecrets(secrets)) {
      this.patterns.push({ name, bytes: Buffer.from(value, "utf8") });
      // Written with JSON.stringify, a value with quotes, backslashes or control characters is escaped.
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) this.patterns.push({ name, bytes: Buffer.from(escaped, "utf8") });
    }
    this.keep = Math.max(0, ...this.patterns.map((p) => p.bytes.length - 1));
  }

  /** Whether there is anything to look for. */
  get active(): boolean {
    return this.patterns.length > 0;
  }

  /** Feeds the next chunk; returns the name of a secret the bytes so far contain, or null. */
  push(chunk: Buffer): string | null {
    if (this.found || !this.patterns.length || !chunk.length) return this.found;
    // The seam: the end of the previous chunk with the start of this one, for a value cut in two.
    const seam = this.tail.length ? Buffer.concat([this.tail, chunk.subarray(0, this.keep)]) : null;
    for (const p of this.patterns) {
      if (chunk.indexOf(p.bytes) !== -1 || (seam && seam.indexOf(p.bytes) !== -1)) {
        this.found = p.name;
        return p.name;
      }
    }
    // A copy, so the (large) chunk is not kept alive by a view into it.
    const from =
      chunk.length >= this.keep ? chunk.subarray(chunk.length - this.keep) : Buffer.concat([this.tail, chunk]);
    this.tail = Buffer.from(from.subarray(Math.max(0, from.length - this.keep)));
    return null;
  }
}

/** The name of a secret whose value a file contains, or null; reads the file as a stream. */
export async function findSecretInFile(path: string, secrets: Record<string, string>): Promise<string | null> {
  const scanner = new SecretScanner(secrets);
  if (!scanner.active) return null;
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) if (scanner.push(chunk as Buffer)) return scanner.found;
  } finally {
    stream.destroy();
  }
  return null;
}

export { SecretInOutputError } from "../errors.ts";
