import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import type { Principal } from "../domain/records.ts";
import { definitionHash, parseDefinition } from "../domain/workflow.ts";
import { NotFoundError } from "../errors.ts";
import type { PageRequest, WorkflowVersion } from "../ports/run-store.ts";

/** The public shape of a workflow version. */
export const workflowView = (v: WorkflowVersion) => ({
  name: v.name,
  version: v.version,
  definitionHash: v.definitionHash,
  definition: v.definition,
  createdAt: v.createdAt,
  createdBy: v.createdBy,
});

/** Stores a definition as a new version unless it equals the latest. */
export async function putWorkflow(deps: Deps, p: Principal, name: string, body: unknown) {
  const def = parseDefinition(body, name);
  const hash = definitionHash(def);
  const { version, created } = await deps.store.putWorkflowVersion(p.orgId, def, hash, nowIso(deps.clock), p.userId);
  return { created, body: { name: version.name, version: version.version, definitionHash: version.definitionHash } };
}

export async function getWorkflow(deps: Deps, p: Principal, name: string): Promise<WorkflowVersion> {
  const wf = await deps.store.getWorkflow(p.orgId, name);
  if (!wf) throw new NotFoundError(`workflow '${name}' not found`);
  return wf;
}

export async function listWorkflows(deps: Deps, p: Principal, page: PageRequest) {
  const res = await deps.store.listWorkflows(p.orgId, page);
  return {
    items: res.items.map((w) => ({
      name: w.name,
      version: w.version,
      definitionHash: w.definitionHash,
      createdAt: w.createdAt,
    })),
    nextCursor: res.nextCursor,
  };
}

export async function listVersions(deps: Deps, p: Principal, name: string, page: PageRequest) {
  const res = await deps.store.listWorkflowVersions(p.orgId, name, page);
  if (!res.items.length && !page.cursor) throw new NotFoundError(`workflow '${name}' not found`);
  return { items: res.items.map(workflowView), nextCursor: res.nextCursor };
}
