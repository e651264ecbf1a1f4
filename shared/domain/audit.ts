import { hashJson } from "./hash.ts";

/** prevHash of the first event of every run. */
export const GENESIS_HASH = `sha256:${"0".repeat(64)}`;

export interface AuditEventBody {
  seq: number;
  at: string;
  type: string;
  from: string | null;
  to: string | null;
  actor: string;
  detail: Record<string, unknown>;
  prevHash: string;
  /** sha256 of the item version the event produced, so a record edited later no longer matches. */
  snapshotHash: string;
}

/** The hash that chains an audit event to the one before it. */
export const auditEventHash = (body: AuditEventBody): string => hashJson(body);

/** The event that follows `head`: its body (with the hash of the record `version` it produced) and its hash. */
export function chainEvent(
  head: { seq: number; hash: string },
  event: { type: string; from: string | null; to: string | null; actor: string; detail: Record<string, unknown> },
  version: unknown,
  at: string,
): { body: AuditEventBody; hash: string } {
  const body: AuditEventBody = {
    seq: head.seq + 1,
    at,
    type: event.type,
    from: event.from,
    to: event.to,
    actor: event.actor,
    detail: event.detail,
    prevHash: head.hash,
    snapshotHash: hashJson(version),
  };
  return { body, hash: auditEventHash(body) };
}

/** A record as it is stored and hashed: a JSON copy, undefined attributes dropped. */
export const plainRecord = (v: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(v));

/** Recomputes a chain; returns one problem per broken link. */
export function verifyChain(events: Array<AuditEventBody & { hash: string }>): string[] {
  const problems: string[] = [];
  let prev = GENESIS_HASH;
  events.forEach((ev, i) => {
    if (ev.seq !== i + 1) problems.push(`audit event ${i + 1}: sequence number is ${ev.seq}`);
    if (ev.prevHash !== prev) problems.push(`audit event ${ev.seq}: prevHash does not match the event before it`);
    const { hash, ...body } = ev;
    const recomputed = auditEventHash({
      seq: body.seq,
      at: body.at,
      type: body.type,
      from: body.from,
      to: body.to,
      actor: body.actor,
      detail: body.detail,
      prevHash: body.prevHash,
      snapshotHash: body.snapshotHash,
    });
    if (recomputed !== hash) problems.push(`audit event ${ev.seq}: content does not match its hash`);
    prev = hash;
  });
  return problems;
}

/** What a record an audit event changed is: the run, or one task of it. */
export type AuditTarget = { kind: "run" } | { kind: "task"; nodeId: string };

/**
 * An audit event as stored: its chained body and hash, the record it changed, and the delta from that record's
 * previous version to the one whose hash is `snapshotHash`.
 */
export interface StoredAuditEvent extends AuditEventBody {
  hash: string;
  target: AuditTarget;
  delta: { set: Record<string, unknown>; unset: string[] };
}
