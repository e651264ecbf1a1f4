// Test support: what a stack holds at rest, read from outside the API, for tests that search it for a secret.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Deps } from "../../shared/deps.ts";

/** The part of the DynamoDB run store a test reaches past its interface: the document client it sends through. */
interface WithDocumentClient {
  db: { send: (c: unknown) => Promise<{ Items?: unknown[]; LastEvaluatedKey?: unknown }> };
}

/** Every stored item of the stack's table, read page by page through the DynamoDB API. */
export async function scanTable(store: Deps["store"]): Promise<unknown[]> {
  const { db } = store as unknown as WithDocumentClient;
  const items: unknown[] = [];
  let start: unknown;
  do {
    const page = await db.send(new ScanCommand({ TableName: "stepwise", ExclusiveStartKey: start as never }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every file under `dir`, at any depth; none when `dir` does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir).catch(() => [])) {
    const p = join(dir, entry);
    if ((await stat(p)).isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}
