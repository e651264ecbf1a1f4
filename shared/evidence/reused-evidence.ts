import { hashJson } from "../domain/hash.ts";
import { taskView } from "../domain/stored-task.ts";
import type { EvidenceMaterial } from "./verify.ts";

type Item = Record<string, unknown>;

/** A stored task item as the engine saw it (its last attempt put back), without the table's chain attributes. */
const recordOf = (item: Item): Item => {
  const { seq: _s, auditHash: _h, ...rest } = item;
  return taskView(rest);
};

/** The stored task item of a node, from which a file's storage location (`reusedFrom`) is read. */
export const producerIn = (m: EvidenceMaterial, nodeId: string): { reusedFrom?: { runId: string } | null } =>
  (m.tasks.find((t) => t.nodeId === nodeId) ?? {}) as { reusedFrom?: { runId: string } | null };

interface ReusedDetail {
  nodeId?: string;
  fromRun?: string;
  originalHash?: string;
}

/**
 * Checks a restarted run's carried-over evidence against the run it came from: the `run.restarted` event names the
 * old run's sealed root, each `task.reused` event the hash of the original task record, and each copy must hold the
 * original's attempts and context writes. Returns the runs to verify in turn (back to the one that really ran).
 */
export async function checkReusedEvidence(
  m: EvidenceMaterial,
  load: (runId: string) => Promise<EvidenceMaterial>,
): Promise<{ runs: string[]; problems: string[] }> {
  const problems: string[] = [];
  const first = m.audit.find((e) => Number(e.seq) === 1);
  if (first?.type !== "run.restarted") return { runs: [], problems };
  const detail = (first.detail ?? {}) as { restartOf?: { runId?: string; root?: string | null } };
  const oldId = detail.restartOf?.runId;
  if (!oldId) return { runs: [], problems: ["the run.restarted event names no run"] };
  const old = await load(oldId);
  if (!old.run) return { runs: [], problems: [`the run it restarted (${oldId}) is missing`] };
  const oldRoot = (old.run.root as string | null | undefined) ?? null;
  if ((detail.restartOf?.root ?? null) !== oldRoot)
    problems.push(
      `the run.restarted event names root ${detail.restartOf?.root ?? "(none)"} of ${oldId}, but that run's root is ${oldRoot ?? "(none)"}`,
    );
  const reusedEvents = m.audit.filter((e) => e.type === "task.reused");
  const origins = new Set<string>([oldId]);
  for (const ev of reusedEvents) {
    const d = (ev.detail ?? {}) as ReusedDetail;
    if (!d.nodeId || !d.fromRun) {
      problems.push(`audit event ${ev.seq}: a task.reused event without its node or run`);
      continue;
    }
    const source = d.fromRun === oldId ? old : await load(d.fromRun);
    origins.add(d.fromRun);
    const originalItem = source.tasks.find((t) => t.nodeId === d.nodeId);
    const copyItem = m.tasks.find((t) => t.nodeId === d.nodeId);
    const original = originalItem && recordOf(originalItem);
    const copy = copyItem && recordOf(copyItem);
    const who = `carried-over task '${d.nodeId}' (from ${d.fromRun})`;
    if (!original) {
      problems.push(`${who}: the original task record is missing`);
      continue;
    }
    if (hashJson(original) !== d.originalHash)
      problems.push(`${who}: the original record no longer hashes to ${d.originalHash}, as recorded at the restart`);
    if (!copy) continue; // the run's own checks report a missing record
    for (const field of ["attempts", "outputVariables", "attempt", "type"] as const)
      if (hashJson(copy[field] ?? null) !== hashJson(original[field] ?? null))
        problems.push(`${who}: its ${field} differ from the original's`);
  }
  return { runs: [...origins], problems };
}
