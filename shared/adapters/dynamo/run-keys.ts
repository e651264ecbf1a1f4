import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type { QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import type { ChangeTarget } from "../../ports/run-store.ts";
import { TTL_ATTRIBUTE } from "../dynamo-table.ts";

export type Item = Record<string, unknown>;

export const pad = (n: number): string => String(n).padStart(10, "0");
export const runPk = (orgId: string, runId: string) => `ORG#${orgId}#RUN#${runId}`;
/** A commit's audit item is keyed by the sequence number of its first event. */
export const auditSk = (seq: number) => `AUDIT#${pad(seq)}`;
export const AUDIT_PREFIX = "AUDIT#";
export const TASK_PREFIX = "TASK#";
export const targetSk = (t: ChangeTarget) => (t.kind === "run" ? "RUN" : `${TASK_PREFIX}${t.nodeId}`);

export const isConditionFailure = (err: unknown): boolean =>
  err instanceof ConditionalCheckFailedException ||
  (err as { name?: string })?.name === "ConditionalCheckFailedException";

/** The list a cursor belongs to: table, index, org-bearing key condition and filters (see shared/kernel/signed-cursor.ts). */
export const cursorScope = (input: QueryCommandInput): string =>
  JSON.stringify([
    input.TableName,
    input.IndexName ?? null,
    input.KeyConditionExpression,
    input.FilterExpression ?? null,
    input.ExpressionAttributeValues ?? null,
  ]);

/** An item less the table's own attributes (keys, index keys, TTL) and `extra`. */
export function strip<T>(item: Item, extra: string[] = []): T {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) {
    if (k === "pk" || k === "sk" || k.startsWith("gsi") || k === TTL_ATTRIBUTE || extra.includes(k)) continue;
    out[k] = v;
  }
  return out as T;
}
