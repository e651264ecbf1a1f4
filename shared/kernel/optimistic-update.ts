import { StaleStateError } from "../errors.ts";

/**
 * The one optimistic-update contract: a repository's conditional write (create-if-absent, or a write conditional
 * on the revision read) throws StaleStateError when another writer won. `retryOnStale` re-reads and rebuilds by
 * running `attempt` again, up to `attempts` times; then `exhausted` decides: it throws (a ConflictError for a 409)
 * or returns a fallback. Without it a StaleStateError is thrown, which the state machines retry.
 */
export async function retryOnStale<T>(
  attempt: (round: number) => Promise<T>,
  opts: { attempts: number; exhausted?: () => T; onStale?: () => Promise<void> },
): Promise<T> {
  for (let round = 0; round < opts.attempts; round++) {
    try {
      return await attempt(round);
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
      await opts.onStale?.();
    }
  }
  if (opts.exhausted) return opts.exhausted();
  throw new StaleStateError("the record kept changing; try again");
}

/** Runs one conditional write; true when it landed, false when another writer won (a StaleStateError). */
export async function wroteUnlessStale(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (err instanceof StaleStateError) return false;
    throw err;
  }
}
