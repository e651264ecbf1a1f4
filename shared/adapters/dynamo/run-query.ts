import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { openCursor, sealCursor } from "../../kernel/signed-cursor.ts";
import type { PageRequest } from "../../ports/run-store.ts";
import { cursorScope, type Item } from "./run-keys.ts";

/** Every item a query matches, page after page. */
export async function queryAll(db: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const res = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    out.push(...((res.Items ?? []) as Item[]));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/** One page of `limit` items; with a filter, reads on until the page is full. */
export async function queryPage(
  db: DynamoDBDocumentClient,
  cursorKey: Buffer,
  input: QueryCommandInput,
  page: PageRequest,
): Promise<{ items: Item[]; nextCursor: string | null }> {
  const items: Item[] = [];
  const scope = cursorScope(input);
  let start = page.cursor ? openCursor(page.cursor, scope, cursorKey) : undefined;
  const keyNames = ["pk", "sk"];
  if (input.IndexName) keyNames.push(`${input.IndexName}pk`, `${input.IndexName}sk`);
  for (;;) {
    const res = await db.send(
      new QueryCommand({
        ...input,
        ExclusiveStartKey: start,
        Limit: input.FilterExpression ? 100 : page.limit - items.length,
      }),
    );
    for (const item of (res.Items ?? []) as Item[]) {
      items.push(item);
      if (items.length === page.limit) {
        const last: Item = {};
        for (const k of keyNames) last[k] = item[k];
        const more = res.LastEvaluatedKey !== undefined || item !== res.Items?.[res.Items.length - 1];
        return { items, nextCursor: more ? sealCursor(last, scope, cursorKey) : null };
      }
    }
    start = res.LastEvaluatedKey;
    if (!start) return { items, nextCursor: null };
  }
}
