import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/** RFC 8785 canonical JSON of a value. */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new Error("value cannot be canonicalized");
  return out;
}

/** sha256:<hex> of bytes or a string. */
export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** sha256 of the canonical JSON of a value. */
export const hashJson = (value: unknown): string => sha256(canonicalJson(value));

export const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;
