// The org-wide index of file uses (file lineage): which attempt of which run produced or read a content.
import type { Deps } from "../deps.ts";
import { sha256 } from "../domain/hash.ts";
import type { RunRecord, WorkflowRef } from "../domain/records.ts";

/** One task attempt's use of some content: it wrote it under out/ or read it from in/. */
export interface FileUse {
  role: "produced" | "read";
  nodeId: string;
  attempt: number;
  path: string;
  sha256: string;
  size: number;
}

/** An entry of the cross-run index: who in the org produced or read a given content. */
export interface FileUseItem extends FileUse {
  orgId: string;
  runId: string;
  workflow: WorkflowRef;
  at: string;
}

/** One partition per (org, content): a lookup by hash never crosses orgs. */
// One partition per (org, content): a lookup by hash never crosses orgs, and run ids (ULIDs) in the sort key put
// the newest runs first.
export const fileUsePk = (orgId: string, sha: string) => `ORG#${orgId}#FILE#${sha}`;
const fileUseSk = (runId: string, u: FileUse) =>
  `${runId}#${u.nodeId}#${String(u.attempt).padStart(4, "0")}#${u.role}#${sha256(u.path).slice(7, 31)}`;

/** Records uses of content in the org-wide index (idempotent: the same use written twice is one item). */
export async function indexFileUses(deps: Deps, run: RunRecord, uses: FileUse[], at: string): Promise<void> {
  for (const u of uses) {
    const item: Record<string, unknown> & FileUseItem = {
      pk: fileUsePk(run.orgId, u.sha256),
      sk: fileUseSk(run.runId, u),
      orgId: run.orgId,
      runId: run.runId,
      workflow: run.workflow,
      at,
      ...u,
    };
    await deps.store.putItem({ ...item });
  }
}
