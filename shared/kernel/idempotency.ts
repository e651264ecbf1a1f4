import type { Deps } from "../deps.ts";
import { ConflictError, ValidationError } from "../errors.ts";

/** How long the claimant of a key has to create its record before another request may take the key over. */
const CLAIM_LEASE_MS = 60_000;
/** How long a second request waits for the claimant's record to appear. */
const WAIT_FOR_CLAIMANT_MS = 2_000;

export interface IdempotentCreate<T> {
  orgId: string;
  /** What the key is unique within, e.g. `trigger:<workflow>`. */
  scope: string;
  key: string | undefined;
  /** The id the new record will have. */
  id: string;
  /** The record of an id, as the caller answers with it; null while it does not exist. */
  load: (id: string) => Promise<T | null>;
  create: () => Promise<T>;
}

/**
 * Creates a record at most once per Idempotency-Key. The first request claims the key for its id and creates; every
 * other request answers with what the claimant created, waiting a moment for it. A claim whose record never appeared
 * within a minute (its request died) is taken over; a create that fails without leaving its record gives the key back.
 */
export async function createOnce<T>(deps: Deps, c: IdempotentCreate<T>): Promise<T> {
  const { key } = c;
  if (!key) return c.create();
  if (key.length > 200) throw new ValidationError("Idempotency-Key is longer than 200 characters");
  const existing = await deps.repos.idempotency.claim(c.orgId, c.scope, key, c.id, deps.clock.nowMs());
  if (existing) {
    for (const until = Date.now() + WAIT_FOR_CLAIMANT_MS; ; ) {
      const found = await c.load(existing);
      if (found) return found;
      if (Date.now() >= until) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const now = deps.clock.nowMs();
    const tookOver = await deps.repos.idempotency.takeOver(
      c.orgId,
      c.scope,
      key,
      existing,
      c.id,
      now,
      now - CLAIM_LEASE_MS,
    );
    if (!tookOver)
      throw new ConflictError(
        `the request with this Idempotency-Key (${existing}) is still being handled; retry in a moment with the same key`,
      );
  }
  try {
    return await c.create();
  } catch (err) {
    // Give the key back only when nothing was created: a write that failed on the way back may have landed.
    if (!(await c.load(c.id).catch(() => null)))
      await deps.repos.idempotency.release(c.orgId, c.scope, key, c.id).catch(() => {});
    throw err;
  }
}
