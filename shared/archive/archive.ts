import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import type { Principal } from "../domain/records.ts";
import type { ArchiveKind, ArchiveMarker } from "../ports/repositories.ts";

// Archiving is a marker per archived workflow or job, beside (not inside) its records: versions, runs and evidence
// stay exactly as they were, and `PUT` of the name removes the marker again.

export type { ArchiveKind, ArchiveMarker };

/** Marks a workflow or job archived (idempotent: the first archive time is kept). */
export async function markArchived(deps: Deps, p: Principal, kind: ArchiveKind, name: string): Promise<void> {
  if (await archiveMarker(deps, p.orgId, kind, name)) return;
  await deps.repos.archive.put(p.orgId, { kind, name, archivedAt: nowIso(deps.clock), archivedBy: p.userId });
}

/** Removes the archive marker (a PUT brings the name back). */
export function unarchive(deps: Deps, orgId: string, kind: ArchiveKind, name: string): Promise<boolean> {
  return deps.repos.archive.delete(orgId, kind, name);
}

/** The marker of an archived workflow or job, or null when it is active. */
export function archiveMarker(
  deps: Deps,
  orgId: string,
  kind: ArchiveKind,
  name: string,
): Promise<ArchiveMarker | null> {
  return deps.repos.archive.get(orgId, kind, name);
}

/** Every archived name of a kind in the org. */
export async function archivedNames(deps: Deps, orgId: string, kind: ArchiveKind): Promise<Set<string>> {
  return new Set((await deps.repos.archive.all(orgId)).filter((m) => m.kind === kind).map((m) => m.name));
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
