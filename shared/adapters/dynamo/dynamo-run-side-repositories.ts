import { sha256 } from "../../domain/hash.ts";
import type { Page } from "../../domain/records.ts";
import type {
  ArchiveKind,
  ArchiveMarker,
  ArchiveRepository,
  ConcurrencyRepository,
  FileUseItem,
  FileUseRepository,
  PurgeRecord,
  QueueEntry,
  RetentionRepository,
  RetentionSettings,
  RunSecretRepository,
  SealedSecrets,
  Slots,
} from "../../ports/repositories.ts";
import type { PageRequest } from "../../ports/run-store.ts";
import type { DynamoItems } from "./dynamo-items.ts";
import {
  archivePk,
  archiveSk,
  fileUsePk,
  purgedPk,
  queuePk,
  RETENTION_INDEX_PK,
  RETENTION_SK,
  retentionSettingsPk,
  SLOTS_SK,
  secretsPk,
  slotsPk,
} from "./keys.ts";

// The smaller aggregates beside runs, on the single table (keys: ./keys.ts).

export class DynamoArchiveRepository implements ArchiveRepository {
  constructor(private readonly items: DynamoItems) {}
  get(orgId: string, kind: ArchiveKind, name: string): Promise<ArchiveMarker | null> {
    return this.items.get<ArchiveMarker>(archivePk(orgId), archiveSk(kind, name));
  }
  async put(orgId: string, marker: ArchiveMarker): Promise<void> {
    await this.items.put({ pk: archivePk(orgId), sk: archiveSk(marker.kind, marker.name), ...marker });
  }
  delete(orgId: string, kind: ArchiveKind, name: string): Promise<boolean> {
    return this.items.delete(archivePk(orgId), archiveSk(kind, name));
  }
  all(orgId: string): Promise<ArchiveMarker[]> {
    return this.items.all<ArchiveMarker>(null, archivePk(orgId));
  }
}

export class DynamoRetentionRepository implements RetentionRepository {
  constructor(private readonly items: DynamoItems) {}
  getSettings(orgId: string): Promise<RetentionSettings | null> {
    return this.items.get<RetentionSettings>(retentionSettingsPk(orgId), RETENTION_SK);
  }
  async putSettings(orgId: string, settings: RetentionSettings): Promise<void> {
    // gsi1 lists the orgs that have a retention policy, for the sweep.
    await this.items.put({
      pk: retentionSettingsPk(orgId),
      sk: RETENTION_SK,
      gsi1pk: RETENTION_INDEX_PK,
      gsi1sk: orgId,
      orgId,
      ...settings,
    });
  }
  orgsWithSettings(page: PageRequest): Promise<Page<{ orgId: string }>> {
    return this.items.page<{ orgId: string }>("gsi1", RETENTION_INDEX_PK, page, true);
  }
  async markPurged(orgId: string, runId: string, purge: PurgeRecord): Promise<void> {
    await this.items.put({ pk: purgedPk(orgId), sk: runId, ...purge });
  }
  async isPurged(orgId: string, runId: string): Promise<boolean> {
    return (await this.items.get(purgedPk(orgId), runId)) !== null;
  }
}

export class DynamoRunSecretRepository implements RunSecretRepository {
  constructor(private readonly items: DynamoItems) {}
  async put(orgId: string, runId: string, secrets: SealedSecrets, expiresAt: number): Promise<void> {
    await this.items.put({ pk: secretsPk(orgId, runId), sk: secrets.nodeId, ...secrets, expiresAt });
  }
  list(orgId: string, runId: string): Promise<SealedSecrets[]> {
    return this.items.all<SealedSecrets>(null, secretsPk(orgId, runId));
  }
  async deleteAll(orgId: string, runId: string): Promise<void> {
    for (const item of await this.list(orgId, runId)) await this.items.delete(secretsPk(orgId, runId), item.nodeId);
  }
}

/** Run ids (ULIDs) lead the sort key, so newest runs come first when read backwards. */
const fileUseSk = (u: FileUseItem) =>
  `${u.runId}#${u.nodeId}#${String(u.attempt).padStart(4, "0")}#${u.role}#${sha256(u.path).slice(7, 31)}`;

export class DynamoFileUseRepository implements FileUseRepository {
  constructor(private readonly items: DynamoItems) {}
  async put(use: FileUseItem): Promise<void> {
    await this.items.put({ pk: fileUsePk(use.orgId, use.sha256), sk: fileUseSk(use), ...use });
  }
  listByContent(orgId: string, sha: string, page: PageRequest): Promise<Page<FileUseItem>> {
    return this.items.page<FileUseItem>(null, fileUsePk(orgId, sha), page, true);
  }
}

/**
 * A workflow's concurrency gate is two kinds of items, both keyed by its name: the semaphore (the runIds holding a
 * slot, written with an optimistic `ver` condition) and the queue (one item per waiting run, sorted by runId).
 */
export class DynamoConcurrencyRepository implements ConcurrencyRepository {
  constructor(private readonly items: DynamoItems) {}
  async enqueue(orgId: string, workflow: string, entry: QueueEntry): Promise<void> {
    await this.items.put({ pk: queuePk(orgId, workflow), sk: entry.runId, ...entry });
  }
  async isQueued(orgId: string, workflow: string, runId: string): Promise<boolean> {
    return (await this.items.get(queuePk(orgId, workflow), runId)) !== null;
  }
  async queue(orgId: string, workflow: string, limit: number): Promise<QueueEntry[]> {
    return (await this.items.page<QueueEntry>(null, queuePk(orgId, workflow), { limit }, false)).items;
  }
  async dequeue(orgId: string, workflow: string, runId: string): Promise<void> {
    await this.items.delete(queuePk(orgId, workflow), runId);
  }
  async slots(orgId: string, workflow: string): Promise<Slots> {
    return (await this.items.get<Slots>(slotsPk(orgId, workflow), SLOTS_SK)) ?? { holders: [], ver: 0 };
  }
  async saveSlots(orgId: string, workflow: string, holders: string[], readVer: number): Promise<void> {
    await this.items.put(
      { pk: slotsPk(orgId, workflow), sk: SLOTS_SK, holders, ver: readVer + 1 },
      readVer === 0 ? { condition: "attribute_not_exists(pk)" } : { condition: "ver = :v", values: { ":v": readVer } },
    );
  }
}
