/** Write request units by item size, summed by a hook on the run store's DynamoDB client (bench/run.ts). */
import type { EmbeddedStack } from "../local/embedded.ts";
import { type AttributeValue, dynamoItemBytes, writeUnits } from "./stats.ts";

export class WriteUnitCounter {
  units = 0;

  /** Hooks the run store's client, after the request is serialized (its body shows each item's size). */
  install(stack: EmbeddedStack): void {
    stack.sdkClients.dynamodb.addHook("build", "benchWriteUnits", (call, next) => {
      this.units += unitsOf(call.command, call.request);
      return next();
    });
  }
}

/** The serialized JSON body of a request: a string, or bytes with this SDK version. */
function bodyOf(request: unknown): string | null {
  if (typeof request !== "object" || request === null || !("body" in request)) return null;
  const raw = request.body;
  // Bytes are decoded with TextDecoder: the SDK's byte body warns when string methods are called on it.
  return typeof raw === "string" ? raw : raw instanceof Uint8Array ? new TextDecoder().decode(raw) : null;
}

function unitsOf(command: string, request: unknown): number {
  const body = bodyOf(request);
  const parse = (): Record<string, unknown> => (body ? JSON.parse(body) : {});
  if (command === "PutItemCommand") {
    const item = parse().Item as Record<string, AttributeValue> | undefined;
    return item ? writeUnits(dynamoItemBytes(item)) : 1;
  }
  if (command === "BatchWriteItemCommand") {
    const tables = (parse().RequestItems ?? {}) as Record<string, Array<{ PutRequest?: { Item: never } }>>;
    return Object.values(tables)
      .flat()
      .reduce((n, r) => n + (r.PutRequest ? writeUnits(dynamoItemBytes(r.PutRequest.Item)) : 1), 0);
  }
  // Updates and deletes are billed by the size of the item they touch, which the request does not show.
  return ["UpdateItemCommand", "DeleteItemCommand", "TransactWriteItemsCommand"].includes(command) ? 1 : 0;
}
