// Test support: a run's audit chain checked from outside the server, as an independent verifier would.
import { createHash } from "node:crypto";
import canonicalizeImport from "canonicalize";
import { expect } from "vitest";
import { type AuditEventBody, auditEventHash, GENESIS_HASH } from "../../shared/domain/audit.ts";
import type { Json } from "./stack.ts";

const canonicalize = canonicalizeImport as unknown as (v: unknown) => string;

/**
 * Recomputes every audit event's hash and link, with the project's code and without it. `alsoCheck` runs on each
 * event once its link is checked, for what a test checks on top (timestamp and hash formats).
 */
export function expectIntactChain(items: Json[], alsoCheck?: (ev: Json) => void): void {
  expect(items.map((e) => e.seq)).toEqual(items.map((_, i) => i + 1));
  let prev = GENESIS_HASH;
  for (const ev of items) {
    expect(ev.prevHash).toBe(prev);
    alsoCheck?.(ev);
    const body: AuditEventBody = {
      seq: ev.seq,
      at: ev.at,
      type: ev.type,
      from: ev.from,
      to: ev.to,
      actor: ev.actor,
      detail: ev.detail,
      prevHash: ev.prevHash,
      snapshotHash: ev.snapshotHash,
    };
    expect(auditEventHash(body)).toBe(ev.hash);
    // The same hash computed without the project's code.
    expect(`sha256:${createHash("sha256").update(canonicalize(body)).digest("hex")}`).toBe(ev.hash);
    prev = ev.hash;
  }
}
