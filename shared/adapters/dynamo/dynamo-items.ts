import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Page } from "../../domain/records.ts";
import { StaleStateError } from "../../errors.ts";
import type { PageRequest } from "../../ports/run-store.ts";
import { type Item, isConditionFailure, strip } from "./run-keys.ts";
import { queryPage } from "./run-query.ts";

export type { Item };
export type IndexName = "gsi1" | "gsi2" | "gsi3";

/**
 * Keyed items of the single table, for the repositories of shared/adapters/dynamo/: put (optionally conditional,
 * a failed condition being the StaleStateError of the optimistic-update contract), get, delete, and pages of a
 * partition (of the table or an index) with signed cursors.
 */
export class DynamoItems {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Signs list cursors (cursorSigningKey). */
    private readonly cursorKey: Buffer,
  ) {}

  /** Puts an item; with `condition`, a failed condition throws StaleStateError. */
  async put(item: Item, cond?: { condition: string; values?: Item; names?: Record<string, string> }): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: cond?.condition,
          ExpressionAttributeValues: cond?.values,
          ExpressionAttributeNames: cond?.names,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err))
        throw new StaleStateError("the item changed or already exists", undefined, { cause: err });
      throw err;
    }
  }

  /** Puts an item unless one with its key exists; false when one did. */
  async create(item: Item): Promise<boolean> {
    try {
      await this.put(item, { condition: "attribute_not_exists(pk)" });
      return true;
    } catch (err) {
      if (err instanceof StaleStateError) return false;
      throw err;
    }
  }

  /** An item by key, read strongly consistent unless `consistent` is false (immutable items, lookups by hash). */
  async get<T>(pk: string, sk: string, consistent = true): Promise<T | null> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: consistent || undefined }),
    );
    return res.Item ? strip<T>(res.Item) : null;
  }

  /** Deletes an item; true when there was one. */
  async delete(pk: string, sk: string): Promise<boolean> {
    const res = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { pk, sk }, ReturnValues: "ALL_OLD" }),
    );
    return Boolean(res.Attributes);
  }

  /** A page of a partition of the table (index null) or an index, highest sort key first when `newestFirst`. */
  page<T>(index: IndexName | null, pkValue: string, page: PageRequest, newestFirst: boolean): Promise<Page<T>> {
    return this.query<T>({ index, pk: pkValue }, page, newestFirst);
  }

  /**
   * A page of a partition, optionally narrowed on the sort key (a prefix, or one value); `consistent` reads the
   * table strongly consistent (indexes cannot be).
   */
  async query<T>(
    q: { index: IndexName | null; pk: string; skPrefix?: string; sk?: string; consistent?: boolean },
    page: PageRequest,
    newestFirst: boolean,
  ): Promise<Page<T>> {
    const pkName = q.index ? `${q.index}pk` : "pk";
    const skName = q.index ? `${q.index}sk` : "sk";
    let condition = `${pkName} = :p`;
    const values: Item = { ":p": q.pk };
    if (q.skPrefix !== undefined) {
      condition += ` AND begins_with(${skName}, :s)`;
      values[":s"] = q.skPrefix;
    } else if (q.sk !== undefined) {
      condition += ` AND ${skName} = :s`;
      values[":s"] = q.sk;
    }
    const res = await queryPage(
      this.db,
      this.cursorKey,
      {
        TableName: this.table,
        IndexName: q.index ?? undefined,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        ScanIndexForward: !newestFirst,
        ConsistentRead: q.consistent,
      },
      page,
    );
    return { items: res.items.map((i) => strip<T>(i)), nextCursor: res.nextCursor };
  }

  /** Deletes an item if `condition` holds; false when it did not (or there was none to delete). */
  async deleteIf(pk: string, sk: string, condition: string, values: Item): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk, sk },
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Every item of a partition, lowest sort key first. */
  async all<T>(index: IndexName | null, pkValue: string): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<T> = await this.page<T>(index, pkValue, { limit: 100, cursor }, false);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  /** Items across partitions matching a filter (a consistent scan: only for start-up, never on a request). */
  async scan<T>(filter: string, names: Record<string, string>, values: Item, projection: string): Promise<T[]> {
    const out: T[] = [];
    let start: Item | undefined;
    do {
      const res = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: filter,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ProjectionExpression: projection,
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const i of res.Items ?? []) out.push(i as T);
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
