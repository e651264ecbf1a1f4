/**
 * Items kept by id across restarts: the storage of the embedded stand-ins for SQS (the delivery queue) and
 * EventBridge Scheduler (the registrations), which in the cloud keep their own. Built on the table by
 * shared/adapters/dynamo/dynamo-durable-list.ts.
 */
export interface DurableList<T> {
  put(id: string, item: T): Promise<void>;
  delete(id: string): Promise<void>;
  /** Every item, in id order. */
  all(): Promise<T[]>;
}
