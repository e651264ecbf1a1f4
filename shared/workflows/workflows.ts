import { archivedNames, archiveMarker, filterPages, markArchived, unarchive } from "../archive/archive.ts";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import type { Principal } from "../domain/records.ts";
import { definitionHash, parseDefinition } from "../domain/workflow.ts";
import { NotFoundError } from "../errors.ts";
import type { PageRequest, WorkflowVersion } from "../ports/run-store.ts";

/** The public shape of a workflow version; `archived` is added where the caller knows it. */
export const workflowView = (v: WorkflowVersion, archived?: boolean) => ({
  name: v.name,
  version: v.version,
  definitionHash: v.definitionHash,
  definition: v.definition,
  createdAt: v.createdAt,
  createdBy: v.createdBy,
  ...(archived === undefined ? {} : { archived }),
});

/** Stores a definition as a new version unless it equals the latest. */
export async function putWorkflow(deps: Deps, p: Principal, name: string, body: unknown) {
  const def = parseDefinition(body, name);
  const hash = definitionHash(def);
  // PUT of an archived name makes it active again, always as a new version.
  const wasArchived = await unarchive(deps, p.orgId, "workflow", name);
  const { version, created } = await deps.repos.workflows.putVersion(p.orgId, def, hash, nowIso(deps.clock), p.userId, {
    forceNew: wasArchived,
  });
  return { created, body: { name: version.name, version: version.version, definitionHash: version.definitionHash } };
}

export async function getWorkflow(deps: Deps, p: Principal, name: string): Promise<WorkflowVersion> {
  const wf = await deps.repos.workflows.get(p.orgId, name);
  if (!wf) throw new NotFoundError(`workflow '${name}' not found`);
  return wf;
}

/** The workflow with whether it is archived, for GET /api/workflows/{name}. */
export async function showWorkflow(deps: Deps, p: Principal, name: string) {
  const wf = await getWorkflow(deps, p, name);
  return workflowView(wf, (await archiveMarker(deps, p.orgId, "workflow", name)) !== null);
}

/** Archives a workflow (204): it leaves the default list and cannot be triggered by name; its records stay. */
export async function archiveWorkflow(deps: Deps, p: Principal, name: string): Promise<void> {
  await getWorkflow(deps, p, name);
  await markArchived(deps, p, "workflow", name);
}

/** The org's workflows (latest version each); archived ones only with `archived`. */
export async function listWorkflows(deps: Deps, p: Principal, page: PageRequest, archived = false) {
  const hidden = await archivedNames(deps, p.orgId, "workflow");
  const res = await filterPages(
    (cursor, limit) => deps.repos.workflows.list(p.orgId, { limit, cursor }),
    (w) => hidden.has(w.name) === archived,
    page.limit,
    page.cursor ?? null,
  );
  const items = [];
  for (const w of res.items) {
    // Heads written before they carried the description: read it from the version itself.
    const head = w as WorkflowVersion & { description?: string | null };
    const description =
      head.description !== undefined
        ? head.description
        : ((await deps.repos.workflows.get(p.orgId, w.name))?.definition.description ?? null);
    items.push({
      name: w.name,
      version: w.version,
      definitionHash: w.definitionHash,
      description,
      createdAt: w.createdAt,
      archived,
    });
  }
  return { items, nextCursor: res.nextCursor };
}

export async function listVersions(deps: Deps, p: Principal, name: string, page: PageRequest) {
  const res = await deps.repos.workflows.listVersions(p.orgId, name, page);
  if (!res.items.length && !page.cursor) throw new NotFoundError(`workflow '${name}' not found`);
  return { items: res.items.map((v) => workflowView(v)), nextCursor: res.nextCursor };
}
