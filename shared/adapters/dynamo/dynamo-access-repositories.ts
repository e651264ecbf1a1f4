import type { Page } from "../../domain/records.ts";
import { listSortKey } from "../../domain/sort-keys.ts";
import type { WorkflowDefinition } from "../../domain/workflow.ts";
import { ConflictError, StaleStateError } from "../../errors.ts";
import { retryOnStale, wroteUnlessStale } from "../../kernel/optimistic-update.ts";
import {
  type IdempotencyRepository,
  type KeyRepository,
  nextWorkflowVersion,
  type WorkflowRepository,
} from "../../ports/access-repositories.ts";
import type { KeyRecord, PageRequest, WorkflowVersion } from "../../ports/run-store.ts";
import { TTL_ATTRIBUTE } from "../dynamo-table.ts";
import type { DynamoItems } from "./dynamo-items.ts";
import {
  IDEMPOTENCY_SK,
  idempotencyPk,
  KEY_SK,
  keyPk,
  keysIndexPk,
  ORG_SK,
  orgPk,
  WORKFLOW_HASH_SK,
  WORKFLOW_HEAD_SK,
  WORKFLOW_VERSION_PREFIX,
  workflowHashPk,
  workflowPk,
  workflowsIndexPk,
  workflowVersionSk,
} from "./keys.ts";

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** Orgs and API keys on the single table (keys: ./keys.ts). */
export class DynamoKeyRepository implements KeyRepository {
  constructor(private readonly items: DynamoItems) {}

  async createOrg(orgId: string, at: string): Promise<void> {
    if (!(await this.items.create({ pk: orgPk(orgId), sk: ORG_SK, orgId, createdAt: at })))
      throw new ConflictError(`org '${orgId}' already exists`);
  }

  async orgExists(orgId: string): Promise<boolean> {
    return (await this.items.get(orgPk(orgId), ORG_SK, false)) !== null;
  }

  async put(key: KeyRecord): Promise<void> {
    await this.items.put({
      pk: keyPk(key.keyHash),
      sk: KEY_SK,
      gsi1pk: keysIndexPk(key.orgId),
      gsi1sk: key.keyId,
      ...key,
    });
  }

  findByHash(keyHash: string): Promise<KeyRecord | null> {
    return this.items.get<KeyRecord>(keyPk(keyHash), KEY_SK, false);
  }

  list(orgId: string, page: PageRequest): Promise<Page<KeyRecord>> {
    return this.items.page<KeyRecord>("gsi1", keysIndexPk(orgId), page, true);
  }

  async delete(orgId: string, keyId: string): Promise<boolean> {
    const [found] = (
      await this.items.query<KeyRecord>({ index: "gsi1", pk: keysIndexPk(orgId), sk: keyId }, { limit: 1 }, false)
    ).items;
    if (!found) return false;
    await this.items.delete(keyPk(found.keyHash), KEY_SK);
    return true;
  }
}

/** Workflow versions, each name's head (for the list) and the definition-hash lookup (keys: ./keys.ts). */
/** How many definitions by hash a process remembers (every Advance call of a run looks its definition up). */
const BY_HASH_CACHE_SIZE = 256;

export class DynamoWorkflowRepository implements WorkflowRepository {
  /** Versions found by definition hash: a hash names one definition and a version never changes once written. */
  private readonly byHash = new Map<string, WorkflowVersion>();

  constructor(private readonly items: DynamoItems) {}

  putVersion(
    orgId: string,
    def: WorkflowDefinition,
    definitionHash: string,
    at: string,
    by: string,
    opts: { forceNew?: boolean } = {},
  ): Promise<{ version: WorkflowVersion; created: boolean }> {
    const pk = workflowPk(orgId, def.name);
    return retryOnStale(
      async () => {
        const latest = await this.get(orgId, def.name);
        const next = nextWorkflowVersion(latest, { orgId, def, definitionHash, at, by, forceNew: opts.forceNew });
        if (!next.created) return next;
        const { version } = next;
        // Stale when a concurrent PUT took this version number: read the latest again.
        await this.items.put(
          { pk, sk: workflowVersionSk(version.version), ...version },
          { condition: "attribute_not_exists(pk)" },
        );
        // The head moves forward only (a slower writer of an older version leaves it).
        await wroteUnlessStale(() =>
          this.items.put(
            {
              pk,
              sk: WORKFLOW_HEAD_SK,
              gsi1pk: workflowsIndexPk(orgId),
              // Lists are newest first: the workflow changed last comes first.
              gsi1sk: listSortKey(at, def.name),
              name: def.name,
              version: version.version,
              definitionHash,
              // Lists show it without reading each definition.
              description: def.description ?? null,
              createdAt: at,
            },
            { condition: "attribute_not_exists(pk) OR version < :v", values: { ":v": version.version } },
          ),
        );
        // The first version with this definition is the one the hash finds.
        await this.items.create({
          pk: workflowHashPk(orgId, definitionHash),
          sk: WORKFLOW_HASH_SK,
          name: def.name,
          version: version.version,
        });
        return { version, created: true };
      },
      {
        attempts: 5,
        exhausted: () => {
          throw new ConflictError(`workflow '${def.name}' is being changed concurrently; try again`);
        },
      },
    );
  }

  async get(orgId: string, name: string, version?: number): Promise<WorkflowVersion | null> {
    // A version never changes once written.
    if (version !== undefined)
      return this.items.get<WorkflowVersion>(workflowPk(orgId, name), workflowVersionSk(version), false);
    const latest = await this.items.query<WorkflowVersion>(
      { index: null, pk: workflowPk(orgId, name), skPrefix: WORKFLOW_VERSION_PREFIX, consistent: true },
      { limit: 1 },
      true,
    );
    return latest.items[0] ?? null;
  }

  async getByHash(orgId: string, definitionHash: string): Promise<WorkflowVersion | null> {
    const cacheKey = `${orgId}\n${definitionHash}`;
    const known = this.byHash.get(cacheKey);
    if (known) return known;
    const ref = await this.items.get<{ name: string; version: number }>(
      workflowHashPk(orgId, definitionHash),
      WORKFLOW_HASH_SK,
      false,
    );
    const found = ref ? await this.get(orgId, String(ref.name), Number(ref.version)) : null;
    if (found) {
      if (this.byHash.size >= BY_HASH_CACHE_SIZE) this.byHash.delete(this.byHash.keys().next().value as string);
      this.byHash.set(cacheKey, found);
    }
    return found;
  }

  async list(orgId: string, page: PageRequest): Promise<Page<WorkflowVersion>> {
    const res = await this.items.page<WorkflowVersion>("gsi1", workflowsIndexPk(orgId), page, true);
    return { items: res.items.map((w) => ({ ...w, orgId })), nextCursor: res.nextCursor };
  }

  listVersions(orgId: string, name: string, page: PageRequest): Promise<Page<WorkflowVersion>> {
    return this.items.query<WorkflowVersion>(
      { index: null, pk: workflowPk(orgId, name), skPrefix: WORKFLOW_VERSION_PREFIX },
      page,
      true,
    );
  }
}

/** Idempotency-Key claims with a day's TTL (keys: ./keys.ts). */
export class DynamoIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly items: DynamoItems) {}

  claim(orgId: string, scope: string, key: string, id: string, nowMs: number): Promise<string | null> {
    const pk = idempotencyPk(orgId, scope, key);
    const now = Math.floor(nowMs / 1000);
    // A claim given back between our put and our read leaves nothing to read: claim again.
    return retryOnStale(
      async () => {
        const claimed = await wroteUnlessStale(() =>
          this.items.put(
            { pk, sk: IDEMPOTENCY_SK, runId: id, claimedAt: nowMs, [TTL_ATTRIBUTE]: now + IDEMPOTENCY_TTL_SECONDS },
            // dynalite has no TTL: an expired claim is overwritten here instead.
            {
              condition: "attribute_not_exists(pk) OR #ttl < :now",
              names: { "#ttl": TTL_ATTRIBUTE },
              values: { ":now": now },
            },
          ),
        );
        if (claimed) return null;
        const holder = await this.items.get<{ runId: string }>(pk, IDEMPOTENCY_SK);
        if (holder) return String(holder.runId);
        throw new StaleStateError("the claim was given back meanwhile");
      },
      {
        attempts: 3,
        exhausted: () => {
          throw new ConflictError("the Idempotency-Key is being claimed and given back concurrently; retry");
        },
      },
    );
  }

  takeOver(
    orgId: string,
    scope: string,
    key: string,
    fromId: string,
    toId: string,
    nowMs: number,
    staleBeforeMs: number,
  ): Promise<boolean> {
    return wroteUnlessStale(() =>
      this.items.put(
        {
          pk: idempotencyPk(orgId, scope, key),
          sk: IDEMPOTENCY_SK,
          runId: toId,
          claimedAt: nowMs,
          [TTL_ATTRIBUTE]: Math.floor(nowMs / 1000) + IDEMPOTENCY_TTL_SECONDS,
        },
        // Claims from before claimedAt was recorded count as stale.
        {
          condition: "runId = :from AND (attribute_not_exists(claimedAt) OR claimedAt < :stale)",
          values: { ":from": fromId, ":stale": staleBeforeMs },
        },
      ),
    );
  }

  async release(orgId: string, scope: string, key: string, id: string): Promise<void> {
    await this.items.deleteIf(idempotencyPk(orgId, scope, key), IDEMPOTENCY_SK, "runId = :r", { ":r": id });
  }
}
