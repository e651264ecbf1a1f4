import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/**
 * Stops what an attempt left behind when the engine died under it (a SIGKILLed server): its process group,
 * if that process still carries the attempt's run and node in its environment, and its directory.
 */
export async function stopOrphans(workRoot: string, runId: string, nodeId: string): Promise<number> {
  let stopped = 0;
  let entries: string[] = [];
  try {
    entries = await readdir(workRoot);
  } catch {
    return 0;
  }
  for (const entry of entries.filter((e) => e.startsWith(`${runId}-${nodeId}-`))) {
    const dir = join(workRoot, entry);
    const pid = Number(await readFile(join(dir, "pid"), "utf8").catch(() => ""));
    if (pid > 1) {
      const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
      // A recycled pid belongs to someone else: only a process of this very attempt is stopped.
      if (environ.includes(`STEPWISE_RUN_ID=${runId}\0`) && environ.includes(`STEPWISE_NODE_ID=${nodeId}\0`)) {
        try {
          process.kill(-pid, "SIGKILL");
          stopped++;
        } catch {
          // already gone
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
  // A finished attempt of the same run whose directory an earlier engine process died before removing: last
  // touched before this process started and its process gone. (A sibling of this process may still be reading
  // its outputs, so only directories older than this process are taken.)
  for (const entry of entries.filter((e) => e.startsWith(`${runId}-`) && !e.startsWith(`${runId}-${nodeId}-`))) {
    const dir = join(workRoot, entry);
    const touched = await stat(dir).then(
      (s) => s.mtimeMs,
      () => Number.POSITIVE_INFINITY,
    );
    if (touched >= performance.timeOrigin) continue;
    const pid = Number(await readFile(join(dir, "pid"), "utf8").catch(() => ""));
    const environ = pid > 1 ? await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "") : "";
    if (!environ.includes(`STEPWISE_RUN_ID=${runId}\0`)) await rm(dir, { recursive: true, force: true });
  }
  return stopped;
}
