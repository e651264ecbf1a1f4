import { ConflictError } from "../errors.ts";

/**
 * The record an Idempotency-Key was already claimed for. The request that claimed it may still be creating it, so
 * this waits a moment; it never lets a second record be made. 409 when it does not appear (retry with the same key).
 */
export async function claimedRecord<T>(claimedId: string, load: () => Promise<T | null>): Promise<T> {
  for (let tries = 0; tries < 20; tries++) {
    const found = await load();
    if (found) return found;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new ConflictError(
    `the request with this Idempotency-Key (${claimedId}) is still being handled; retry in a moment with the same key`,
  );
}
