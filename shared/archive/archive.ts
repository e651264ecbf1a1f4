import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import type { Principal } from "../domain/records.ts";
import type { ItemStore } from "../ports/item-store.ts";

// Archiving is a marker item per archived workflow or job, beside (not inside) its records: versions, runs and
// evidence stay exactly as they were, and `PUT` of the name removes the marker again.

export type ArchiveKind = "workflow" | "job";

const archivePk = (orgId: string) => `ORG#${orgId}#ARCHIVED`;
const archiveSk = (kind: ArchiveKind, name: string) => `${kind === "workflow" ? "WF" : "JOB"}#${name}`;

export interface ArchiveMarker {
  kind: ArchiveKind;
  name: string;
  archivedAt: string;
  archivedBy: string;
}

/** Marks a workflow or job archived (idempotent: the first archive time is kept). */
export async function markArchived(deps: Deps, p: Principal, kind: ArchiveKind, name: string): Promise<void> {
  if (await archiveMarker(deps.store, p.orgId, kind, name)) return;
  const marker: ArchiveMarker = { kind, name, archivedAt: nowIso(deps.clock), archivedBy: p.userId };
  await deps.store.putItem({ pk: archivePk(p.orgId), sk: archiveSk(kind, name), ...marker });
}

/** Removes the archive marker (a PUT brings the name back). */
export async function unarchive(store: ItemStore, orgId: string, kind: ArchiveKind, name: string): Promise<boolean> {
  return store.deleteItem(archivePk(orgId), archiveSk(kind, name));
}

/** The marker of an archived workflow or job, or null when it is active. */
export async function archiveMarker(
  store: ItemStore,
  orgId: string,
  kind: ArchiveKind,
  name: string,
): Promise<ArchiveMarker | null> {
  return store.getItem<ArchiveMarker>(archivePk(orgId), archiveSk(kind, name));
}

/** Every archived name of a kind in the org. */
export async function archivedNames(store: ItemStore, orgId: string, kind: ArchiveKind): Promise<Set<string>> {
  const names = new Set<string>();
  let cursor: string | null = null;
  do {
    const page: { items: ArchiveMarker[]; nextCursor: string | null } = await store.queryIndex<ArchiveMarker>(
      null,
      archivePk(orgId),
      { limit: 100, cursor },
      false,
    );
    for (const m of page.items) if (m.kind === kind) names.add(m.name);
    cursor = page.nextCursor;
  } while (cursor);
  return names;
}

/**
 * A list filtered by archive state: reads on until `limit` items pass (or the list ends), each read asking only for
 * what is still missing, so the default list hides archived names and `?archived=true` shows only them.
 */
export async function filterPages<T>(
  fetch: (cursor: string | null, limit: number) => Promise<{ items: T[]; nextCursor: string | null }>,
  keep: (item: T) => boolean,
  limit: number,
  cursor: string | null,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const items: T[] = [];
  let next = cursor;
  do {
    const page = await fetch(next, limit - items.length);
    items.push(...page.items.filter(keep));
    next = page.nextCursor;
  } while (next && items.length < limit);
  return { items, nextCursor: next };
}
