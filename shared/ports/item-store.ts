import type { Page } from "../domain/records.ts";
import type { PageRequest } from "./run-store.ts";

type Item = Record<string, unknown>;

/** Plain keyed items for the smaller aggregates (jobs, job runs, schedules, webhooks, subscriptions). */
export interface ItemStore {
  putItem(item: Item, opts?: { ifAbsent?: boolean; condition?: string; values?: Item }): Promise<void>;
  getItem<T>(pk: string, sk: string): Promise<T | null>;
  deleteItem(pk: string, sk: string): Promise<boolean>;
  queryIndex<T>(
    index: "gsi1" | "gsi2" | "gsi3" | null,
    pkValue: string,
    page: PageRequest,
    newestFirst?: boolean,
  ): Promise<Page<T>>;
  /** Job runs not yet ended, across orgs (the embedded mode resumes their executions at start-up). */
  listActiveJobRuns(): Promise<Array<{ orgId: string; jobRunId: string }>>;
}
