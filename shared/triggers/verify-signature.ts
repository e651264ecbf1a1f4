/**
 * Signatures of Stepwise's outbound event deliveries, for the people who receive them.
 *
 * Each delivery is a `POST` whose raw body is the event JSON, with the header
 * `Stepwise-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`.
 * Verify it over the raw bytes exactly as received (before any JSON parsing) and reject stale timestamps, so that a
 * captured delivery cannot be replayed later:
 *
 * ```ts
 * import { verifyStepwiseSignature } from "stepwise/receiver.ts";
 * const check = verifyStepwiseSignature({ secret, header: req.headers["stepwise-signature"], body: rawBody });
 * if (!check.valid) return res.writeHead(400).end(check.reason);
 * // Deliveries are retried: deduplicate on the Stepwise-Event-Id header (the same id on every retry and redelivery).
 * ```
 *
 * This module has no dependencies beyond `node:crypto`, so receivers can copy it as it is.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The header that carries the signature of an outbound delivery. */
export const SIGNATURE_HEADER = "Stepwise-Signature";
/** The header that carries the event id (the same on every retry and redelivery of an event). */
export const EVENT_ID_HEADER = "Stepwise-Event-Id";
/** Signatures older (or newer) than this are rejected by default: 5 minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface VerifyInput {
  /** The subscription's secret. */
  secret: string;
  /** The value of the Stepwise-Signature header (undefined or an array when the request had none or several). */
  header: string | string[] | undefined | null;
  /** The raw request body, byte for byte as received. */
  body: string | Uint8Array;
  /** How far the signed timestamp may be from now; default 300 seconds. */
  toleranceSeconds?: number;
  /** The current time in milliseconds since the epoch (tests); default Date.now(). */
  nowMs?: number;
}

export type VerifyResult =
  | { valid: true; timestamp: number }
  | { valid: false; reason: "missing_header" | "malformed_header" | "stale_timestamp" | "signature_mismatch" };

const hmacHex = (secret: string, data: string | Uint8Array): string =>
  createHmac("sha256", secret).update(data).digest("hex");

/** The `Stepwise-Signature` header value for a body signed at `timestampSeconds` (what Stepwise sends). */
export function signStepwisePayload(secret: string, body: string | Uint8Array, timestampSeconds: number): string {
  const t = Math.floor(timestampSeconds);
  const payload = Buffer.concat([Buffer.from(`${t}.`), Buffer.from(body)]);
  return `t=${t},v1=${hmacHex(secret, payload)}`;
}

/** Compares two hex strings in constant time (for equal lengths). */
export function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Verifies a `Stepwise-Signature` header over the raw body; rejects timestamps more than 5 minutes away. */
export function verifyStepwiseSignature(input: VerifyInput): VerifyResult {
  const header = Array.isArray(input.header) ? input.header[0] : input.header;
  if (!header) return { valid: false, reason: "missing_header" };
  let t: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) t = Number(value);
    // Several v1 values may be present while a secret is being rotated; any one matching is enough.
    if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (t === null || candidates.length === 0) return { valid: false, reason: "malformed_header" };
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = (input.nowMs ?? Date.now()) / 1000;
  if (Math.abs(now - t) > tolerance) return { valid: false, reason: "stale_timestamp" };
  const expected = signStepwisePayload(input.secret, input.body, t).split("v1=")[1] as string;
  let match = false;
  // Compare against every candidate (no early exit) so timing says nothing about which one matched.
  for (const c of candidates) match = safeEqualHex(c, expected) || match;
  return match ? { valid: true, timestamp: t } : { valid: false, reason: "signature_mismatch" };
}
