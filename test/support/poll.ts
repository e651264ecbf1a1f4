// Test support: waiting for something by polling, never by sleeping a fixed time.

/** Calls `check` every 50 ms until it returns a truthy value, which it returns; throws after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
