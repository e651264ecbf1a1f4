import { type DynamoDBDocumentClient, PutCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import type { PageRequest } from "../../ports/run-store.ts";
import type { Item } from "./run-keys.ts";
import { queryAll, queryPage } from "./run-query.ts";

/**
 * The run store's table access: its client, table and cursor key, and the query helpers DynamoRunStore uses. Orgs,
 * keys, workflows, idempotency claims and the other aggregates have their own repositories (dynamo-*-repository).
 */
export class DynamoTableItems {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly table: string,
    /** Signs list cursors (cursorSigningKey). */
    protected readonly cursorKey: Buffer,
  ) {}

  /** Writes a raw item of the table as given (tests rewrite stored records with it, as someone with access could). */
  async putItem(item: Item): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: item }));
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
