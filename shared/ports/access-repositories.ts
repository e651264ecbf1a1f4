import type { Page } from "../domain/records.ts";
import type { WorkflowDefinition } from "../domain/workflow.ts";
import type { KeyRecord, PageRequest, WorkflowVersion } from "./run-store.ts";

/**
 * What putVersion answers after `latest`: the latest itself when the definition is its (unless `forceNew`), else
 * the next version to store (`created`). The one rule every workflow repository follows.
 */
export function nextWorkflowVersion(
  latest: WorkflowVersion | null,
  v: { orgId: string; def: WorkflowDefinition; definitionHash: string; at: string; by: string; forceNew?: boolean },
): { version: WorkflowVersion; created: boolean } {
  if (latest && latest.definitionHash === v.definitionHash && !v.forceNew) return { version: latest, created: false };
  const version: WorkflowVersion = {
    orgId: v.orgId,
    name: v.def.name,
    version: (latest?.version ?? 0) + 1,
    definitionHash: v.definitionHash,
    definition: v.def,
    createdAt: v.at,
    createdBy: v.by,
  };
  return { version, created: true };
}

/** Orgs and their API keys. */
export interface KeyRepository {
  /** Creates an org; ConflictError when it exists. */
  createOrg(orgId: string, at: string): Promise<void>;
  orgExists(orgId: string): Promise<boolean>;
  put(key: KeyRecord): Promise<void>;
  findByHash(keyHash: string): Promise<KeyRecord | null>;
  /** The org's keys, newest first. */
  list(orgId: string, page: PageRequest): Promise<Page<KeyRecord>>;
  /** Deletes a key of the org; false when it has none with that id. */
  delete(orgId: string, keyId: string): Promise<boolean>;
}

/** Workflow definitions, versioned by name and found again by their definition hash. */
export interface WorkflowRepository {
  /**
   * Stores the definition as the next version of its name, unless it equals the latest (then `created` is false);
   * `forceNew` stores a new version even then (un-archiving). ConflictError when the name keeps changing.
   */
  putVersion(
    orgId: string,
    def: WorkflowDefinition,
    definitionHash: string,
    at: string,
    by: string,
    opts?: { forceNew?: boolean },
  ): Promise<{ version: WorkflowVersion; created: boolean }>;
  /** One version, or the latest. */
  get(orgId: string, name: string, version?: number): Promise<WorkflowVersion | null>;
  getByHash(orgId: string, definitionHash: string): Promise<WorkflowVersion | null>;
  /** The org's workflows (their latest versions), changed last first. */
  list(orgId: string, page: PageRequest): Promise<Page<WorkflowVersion>>;
  /** A workflow's versions, newest first. */
  listVersions(orgId: string, name: string, page: PageRequest): Promise<Page<WorkflowVersion>>;
}

/** Idempotency-Key claims: one id per (org, scope, key) for a day. */
export interface IdempotencyRepository {
  /** Claims the key for `id`; returns the id that already holds it, or null when this call claimed it. */
  claim(orgId: string, scope: string, key: string, id: string, nowMs: number): Promise<string | null>;
  /** Moves a claim whose record never appeared (its request died) to `toId`, if it was made before staleBeforeMs. */
  takeOver(
    orgId: string,
    scope: string,
    key: string,
    fromId: string,
    toId: string,
    nowMs: number,
    staleBeforeMs: number,
  ): Promise<boolean>;
  /** Gives a claimed key back when its record could not be created, so that a retry with it can succeed. */
  release(orgId: string, scope: string, key: string, id: string): Promise<void>;
}
