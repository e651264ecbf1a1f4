// Opaque, tamper-evident list cursors: the store's position (a DynamoDB key) sealed with an HMAC over the list it
// belongs to (org, index, conditions, filters). A cursor the service did not issue, or one issued for another org or
// another list, is refused with 400 before any query runs.

import { createHmac, timingSafeEqual } from "node:crypto";
import { ValidationError } from "../errors.ts";

const MAC_BYTES = 16;
const invalid = () =>
  new ValidationError("invalid cursor", [{ path: "cursor", message: "not a cursor this list returned" }]);

/** The signing key of cursors, derived from a secret setting (by default the platform key's hash). */
export function cursorSigningKey(secret: string): Buffer {
  return createHmac("sha256", "stepwise-cursor-v1").update(secret).digest();
}

const macOf = (key: Buffer, scope: string, payload: string): Buffer =>
  createHmac("sha256", key).update(scope).update("\n").update(payload).digest().subarray(0, MAC_BYTES);

/** Seals a position for the list named by `scope`: `<base64url JSON>.<base64url MAC>`. */
export function sealCursor(position: Record<string, unknown>, scope: string, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify(position)).toString("base64url");
  return `${payload}.${macOf(key, scope, payload).toString("base64url")}`;
}

/** The position in a cursor sealed for this list by this service; anything else is a 400 naming `cursor`. */
export function openCursor(cursor: string, scope: string, key: Buffer): Record<string, unknown> {
  const [payload, mac, extra] = cursor.split(".");
  if (!payload || !mac || extra !== undefined || cursor.length > 4096) throw invalid();
  const given = Buffer.from(mac, "base64url");
  const expected = macOf(key, scope, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  try {
    const position: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (position && typeof position === "object" && !Array.isArray(position)) return { ...position };
  } catch {
    // a sealed payload always parses; fall through to the same answer
  }
  throw invalid();
}
