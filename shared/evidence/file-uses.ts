// The org-wide index of file uses (file lineage): which attempt of which run produced or read a content.
import type { Deps } from "../deps.ts";
import type { RunRecord } from "../domain/records.ts";
import type { FileUse, FileUseItem } from "../ports/repositories.ts";

export type { FileUse, FileUseItem };

/** Records uses of content in the org-wide index (idempotent: the same use written twice is one item). */
export async function indexFileUses(deps: Deps, run: RunRecord, uses: FileUse[], at: string): Promise<void> {
  for (const u of uses)
    await deps.repos.fileUses.put({ orgId: run.orgId, runId: run.runId, workflow: run.workflow, at, ...u });
}
