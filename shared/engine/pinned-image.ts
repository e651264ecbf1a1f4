import type { AttemptRecord } from "../domain/records.ts";
import type { RunStore } from "../ports/run-store.ts";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The digest the first attempt of a node that ran this image recorded, if any. */
function firstDigest(attempts: AttemptRecord[] | undefined, image: string): string | undefined {
  return attempts?.find((a) => a.image === image && a.imageHash && DIGEST.test(a.imageHash))?.imageHash ?? undefined;
}

/**
 * The digest a container attempt must run: the one this node's earlier attempts ran, else the one the run it
 * reruns recorded for the same node and image; undefined lets the executor resolve the tag.
 */
export function recordedDigest(store: RunStore) {
  return async (req: { orgId: string; run: { id: string; nodeId: string }; node: { image: string } }) => {
    const state = await store.loadRun(req.orgId, req.run.id);
    if (!state) return undefined;
    const own = firstDigest(state.tasks.get(req.run.nodeId)?.attempts, req.node.image);
    if (own) return own;
    const origin = state.run.rerunOf;
    if (!origin) return undefined;
    const before = await store.loadRun(req.orgId, origin);
    return firstDigest(before?.tasks.get(req.run.nodeId)?.attempts, req.node.image);
  };
}
