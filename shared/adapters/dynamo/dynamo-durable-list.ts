import type { DurableList } from "../embedded/durable-list.ts";
import type { DynamoItems } from "./dynamo-items.ts";

/** A DurableList as one partition of the table (its pk from ./keys.ts), the item's id as sort key. */
export function dynamoDurableList<T extends object>(items: DynamoItems, pk: string): DurableList<T> {
  return {
    put: async (id, item) => items.put({ pk, sk: id, ...item }),
    delete: async (id) => {
      await items.delete(pk, id);
    },
    all: () => items.all<T>(null, pk),
  };
}
