import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { Page } from "../../domain/records.ts";
import { listSortKey } from "../../domain/sort-keys.ts";
import type { WorkflowDefinition } from "../../domain/workflow.ts";
import { ConflictError } from "../../errors.ts";
import type { KeyRecord, PageRequest, WorkflowVersion } from "../../ports/run-store.ts";
import { TTL_ATTRIBUTE } from "../dynamo-table.ts";
import { IDEMPOTENCY_TTL_SECONDS, type Item, isConditionFailure, pad, strip, wfPk } from "./run-keys.ts";
import { queryAll, queryPage } from "./run-query.ts";

/**
 * The run store's items other than runs: orgs, API keys, workflow versions, idempotency claims, and the generic
 * items of the other aggregates (jobs, schedules, webhooks, subscriptions). DynamoRunStore adds the runs.
 */
export class DynamoTableItems {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly table: string,
    /** Signs list cursors (cursorSigningKey). */
    protected readonly cursorKey: Buffer,
  ) {}

  // ---- orgs and keys -------------------------------------------------------------------------

  async createOrg(orgId: string, at: string): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `ORG#${orgId}`, sk: "ORG", orgId, createdAt: at },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new ConflictError(`org '${orgId}' already exists`);
      throw err;
    }
  }

  async orgExists(orgId: string): Promise<boolean> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `ORG#${orgId}`, sk: "ORG" } }));
    return Boolean(res.Item);
  }

  async putKey(key: KeyRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `KEY#${key.keyHash}`, sk: "KEY", gsi1pk: `ORG#${key.orgId}#KEYS`, gsi1sk: key.keyId, ...key },
      }),
    );
  }

  async findKeyByHash(keyHash: string): Promise<KeyRecord | null> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `KEY#${keyHash}`, sk: "KEY" } }));
    return res.Item ? strip<KeyRecord>(res.Item) : null;
  }

  async listKeys(orgId: string, page: PageRequest): Promise<Page<KeyRecord>> {
    const res = await this.queryPage(
      {
        TableName: this.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#KEYS` },
        ScanIndexForward: false,
      },
      page,
    );
    return { items: res.items.map((i) => strip<KeyRecord>(i)), nextCursor: res.nextCursor };
  }

  async deleteKey(orgId: string, keyId: string): Promise<boolean> {
    const items = await this.queryAll({
      TableName: this.table,
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :p AND gsi1sk = :k",
      ExpressionAttributeValues: { ":p": `ORG#${orgId}#KEYS`, ":k": keyId },
    });
    const found = items.map((i) => strip<KeyRecord>(i))[0];
    if (!found) return false;
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: `KEY#${found.keyHash}`, sk: "KEY" } }));
    return true;
  }

  // ---- workflows -----------------------------------------------------------------------------

  async putWorkflowVersion(
    orgId: string,
    def: WorkflowDefinition,
    definitionHash: string,
    at: string,
    by: string,
    opts: { forceNew?: boolean } = {},
  ): Promise<{ version: WorkflowVersion; created: boolean }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const latest = await this.getWorkflow(orgId, def.name);
      if (latest && latest.definitionHash === definitionHash && !opts.forceNew)
        return { version: latest, created: false };
      const version: WorkflowVersion = {
        orgId,
        name: def.name,
        version: (latest?.version ?? 0) + 1,
        definitionHash,
        definition: def,
        createdAt: at,
        createdBy: by,
      };
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: wfPk(orgId, def.name), sk: `V#${pad(version.version)}`, ...version },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (err) {
        if (isConditionFailure(err)) continue; // a concurrent PUT took this version number
        throw err;
      }
      await this.db
        .send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: wfPk(orgId, def.name),
              sk: "HEAD",
              gsi1pk: `ORG#${orgId}#WFS`,
              // Lists are newest first: the workflow changed last comes first.
              gsi1sk: listSortKey(at, def.name),
              name: def.name,
              version: version.version,
              definitionHash,
              // Lists show it without reading each definition.
              description: def.description ?? null,
              createdAt: at,
            },
            ConditionExpression: "attribute_not_exists(pk) OR version < :v",
            ExpressionAttributeValues: { ":v": version.version },
          }),
        )
        .catch((err) => {
          if (!isConditionFailure(err)) throw err;
        });
      await this.db
        .send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: `ORG#${orgId}#WFHASH#${definitionHash}`,
              sk: "WFHASH",
              name: def.name,
              version: version.version,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        )
        .catch((err) => {
          if (!isConditionFailure(err)) throw err;
        });
      return { version, created: true };
    }
    throw new ConflictError(`workflow '${def.name}' is being changed concurrently; try again`);
  }

  async getWorkflow(orgId: string, name: string, version?: number): Promise<WorkflowVersion | null> {
    if (version !== undefined) {
      const res = await this.db.send(
        new GetCommand({ TableName: this.table, Key: { pk: wfPk(orgId, name), sk: `V#${pad(version)}` } }),
      );
      return res.Item ? strip<WorkflowVersion>(res.Item) : null;
    }
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :p AND begins_with(sk, :v)",
        ExpressionAttributeValues: { ":p": wfPk(orgId, name), ":v": "V#" },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = res.Items?.[0];
    return item ? strip<WorkflowVersion>(item) : null;
  }

  async getWorkflowByHash(orgId: string, definitionHash: string): Promise<WorkflowVersion | null> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `ORG#${orgId}#WFHASH#${definitionHash}`, sk: "WFHASH" } }),
    );
    if (!res.Item) return null;
    return this.getWorkflow(orgId, String(res.Item.name), Number(res.Item.version));
  }

  async listWorkflows(orgId: string, page: PageRequest): Promise<Page<WorkflowVersion>> {
    const res = await this.queryPage(
      {
        TableName: this.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#WFS` },
        ScanIndexForward: false,
      },
      page,
    );
    return { items: res.items.map((i) => ({ ...strip<WorkflowVersion>(i), orgId })), nextCursor: res.nextCursor };
  }

  async listWorkflowVersions(orgId: string, name: string, page: PageRequest): Promise<Page<WorkflowVersion>> {
    const res = await this.queryPage(
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :p AND begins_with(sk, :v)",
        ExpressionAttributeValues: { ":p": wfPk(orgId, name), ":v": "V#" },
        ScanIndexForward: false,
      },
      page,
    );
    return { items: res.items.map((i) => strip<WorkflowVersion>(i)), nextCursor: res.nextCursor };
  }

  // ---- idempotency ---------------------------------------------------------------------------

  async claimIdempotencyKey(
    orgId: string,
    scope: string,
    key: string,
    runId: string,
    nowMs: number,
  ): Promise<string | null> {
    const pk = `ORG#${orgId}#IDEM#${scope}#${key}`;
    const now = Math.floor(nowMs / 1000);
    // A claim given back between our put and our read leaves nothing to read: claim again.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk, sk: "IDEM", runId, claimedAt: nowMs, [TTL_ATTRIBUTE]: now + IDEMPOTENCY_TTL_SECONDS },
            // dynalite has no TTL: an expired claim is overwritten here instead.
            ConditionExpression: "attribute_not_exists(pk) OR #ttl < :now",
            ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ":now": now },
          }),
        );
        return null;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const res = await this.db.send(
          new GetCommand({ TableName: this.table, Key: { pk, sk: "IDEM" }, ConsistentRead: true }),
        );
        if (res.Item) return String(res.Item.runId);
        if (attempt >= 2)
          throw new ConflictError("the Idempotency-Key is being claimed and given back concurrently; retry");
      }
    }
  }

  async takeOverIdempotencyKey(
    orgId: string,
    scope: string,
    key: string,
    fromId: string,
    toId: string,
    nowMs: number,
    staleBeforeMs: number,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: `ORG#${orgId}#IDEM#${scope}#${key}`,
            sk: "IDEM",
            runId: toId,
            claimedAt: nowMs,
            [TTL_ATTRIBUTE]: Math.floor(nowMs / 1000) + IDEMPOTENCY_TTL_SECONDS,
          },
          // Claims from before claimedAt was recorded count as stale.
          ConditionExpression: "runId = :from AND (attribute_not_exists(claimedAt) OR claimedAt < :stale)",
          ExpressionAttributeValues: { ":from": fromId, ":stale": staleBeforeMs },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async releaseIdempotencyKey(orgId: string, scope: string, key: string, runId: string): Promise<void> {
    await this.db
      .send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `ORG#${orgId}#IDEM#${scope}#${key}`, sk: "IDEM" },
          ConditionExpression: "runId = :r",
          ExpressionAttributeValues: { ":r": runId },
        }),
      )
      .catch((err) => {
        if (!isConditionFailure(err)) throw err;
      });
  }

  // ---- generic items for the other aggregates (jobs, schedules, webhooks, subscriptions) -----

  /** Puts an item keyed by (pk, sk) with optional index keys; `ifAbsent` makes it a create. */
  async putItem(item: Item, opts: { ifAbsent?: boolean; condition?: string; values?: Item } = {}): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: opts.ifAbsent ? "attribute_not_exists(pk)" : opts.condition,
          ExpressionAttributeValues: opts.values,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new ConflictError("the item changed or already exists");
      throw err;
    }
  }

  async getItem<T>(pk: string, sk: string): Promise<T | null> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }));
    return res.Item ? strip<T>(res.Item) : null;
  }

  async deleteItem(pk: string, sk: string): Promise<boolean> {
    const res = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { pk, sk }, ReturnValues: "ALL_OLD" }),
    );
    return Boolean(res.Attributes);
  }

  /** A page of an index (or the table when index is null) by partition key, newest (highest sort key) first. */
  async queryIndex<T>(
    index: "gsi1" | "gsi2" | "gsi3" | null,
    pkValue: string,
    page: PageRequest,
    newestFirst = true,
  ): Promise<Page<T>> {
    const pkName = index ? `${index}pk` : "pk";
    const res = await this.queryPage(
      {
        TableName: this.table,
        IndexName: index ?? undefined,
        KeyConditionExpression: `${pkName} = :p`,
        ExpressionAttributeValues: { ":p": pkValue },
        ScanIndexForward: !newestFirst,
      },
      page,
    );
    return { items: res.items.map((i) => strip<T>(i)), nextCursor: res.nextCursor };
  }

  // ---- query helpers -------------------------------------------------------------------------

  protected queryAll(input: QueryCommandInput): Promise<Item[]> {
    return queryAll(this.db, input);
  }

  /** One page of `limit` items; with a filter, reads on until the page is full. */
  protected queryPage(
    input: QueryCommandInput,
    page: PageRequest,
  ): Promise<{ items: Item[]; nextCursor: string | null }> {
    return queryPage(this.db, this.cursorKey, input, page);
  }
}
