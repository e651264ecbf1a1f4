import type { Page } from "../../domain/records.ts";
import type { WorkflowDefinition } from "../../domain/workflow.ts";
import { ConflictError, StaleStateError } from "../../errors.ts";
import type { JobRecord, JobRunRecord, JobRunStatus } from "../../jobs/job-records.ts";
import { nextWorkflowVersion } from "../../ports/access-repositories.ts";
import type { JobRunWait } from "../../ports/job-repository.ts";
import type {
  ArchiveKind,
  ArchiveMarker,
  FileUseItem,
  PurgeRecord,
  QueueEntry,
  Repositories,
  RetentionSettings,
  SealedSecrets,
  Slots,
} from "../../ports/repositories.ts";
import type { KeyRecord, PageRequest, WorkflowVersion } from "../../ports/run-store.ts";
import type { FireClaim } from "../../ports/trigger-repositories.ts";
import type { ScheduleRecord, ScheduleState } from "../../triggers/schedule-records.ts";
import type { DeliveryRecord, SubscriptionRecord, WebhookRecord } from "../../triggers/trigger-records.ts";

/**
 * The repositories in memory: the same ports and the same optimistic-update contract (a lost condition throws
 * StaleStateError) as shared/adapters/dynamo/, for unit tests that need no table. Cursors are plain sort keys.
 */
class Partitions<T> {
  private readonly parts = new Map<string, Map<string, T>>();
  get(pk: string, sk: string): T | null {
    const v = this.parts.get(pk)?.get(sk);
    return v === undefined ? null : structuredClone(v);
  }
  has(pk: string, sk: string): boolean {
    return this.parts.get(pk)?.has(sk) ?? false;
  }
  put(pk: string, sk: string, v: T): void {
    const part = this.parts.get(pk) ?? new Map<string, T>();
    this.parts.set(pk, part);
    part.set(sk, structuredClone(v));
  }
  delete(pk: string, sk: string): boolean {
    return this.parts.get(pk)?.delete(sk) ?? false;
  }
  /** A page in sort-key order (reversed when newestFirst); the cursor is the last sort key given. */
  page(pk: string, page: PageRequest, newestFirst: boolean): Page<T> {
    const keys = [...(this.parts.get(pk)?.keys() ?? [])].sort();
    if (newestFirst) keys.reverse();
    const from = page.cursor ? keys.indexOf(page.cursor) + 1 : 0;
    const slice = keys.slice(from, from + page.limit);
    const more = from + page.limit < keys.length;
    return {
      items: slice.map((k) => this.get(pk, k) as T),
      nextCursor: more ? (slice[slice.length - 1] ?? null) : null,
    };
  }
  all(pk: string): T[] {
    return this.page(pk, { limit: Number.MAX_SAFE_INTEGER }, false).items;
  }
  values(): T[] {
    return [...this.parts.values()].flatMap((p) => [...p.values()].map((v) => structuredClone(v)));
  }
}

const stale = (what: string) => new StaleStateError(`${what} changed or already exists`);
const pad = (n: number) => String(n).padStart(10, "0");

/** Every repository, in memory. */
export function memoryRepositories(): Repositories {
  const orgs = new Set<string>();
  const keys = new Partitions<KeyRecord>();
  const versions = new Partitions<WorkflowVersion>();
  const byHash = new Map<string, { name: string; version: number }>();
  const heads = new Map<string, { name: string; at: string }>();
  const claims = new Map<string, { id: string; claimedAt: number; expiresAt: number }>();
  const jobs = new Partitions<JobRecord>();
  const jobRuns = new Partitions<JobRunRecord>();
  const waits = new Partitions<JobRunWait>();
  const schedules = new Partitions<ScheduleRecord>();
  const states = new Partitions<ScheduleState>();
  const fires = new Partitions<FireClaim>();
  const subs = new Partitions<SubscriptionRecord>();
  const deliveries = new Partitions<DeliveryRecord>();
  const unsent = new Set<string>();
  const hooks = new Map<string, WebhookRecord>();
  const markers = new Partitions<ArchiveMarker>();
  const retention = new Map<string, RetentionSettings>();
  const purged = new Partitions<PurgeRecord>();
  const secrets = new Partitions<SealedSecrets>();
  const uses = new Partitions<FileUseItem>();
  const queues = new Partitions<QueueEntry>();
  const slots = new Map<string, Slots>();
  const getVersion = (orgId: string, name: string, version?: number) => {
    if (version !== undefined) return versions.get(`${orgId}/${name}`, pad(version));
    return versions.page(`${orgId}/${name}`, { limit: 1 }, true).items[0] ?? null;
  };
  const dlvKey = (d: { orgId: string; subscription: string; deliveryId: string }) =>
    `${d.orgId}/${d.subscription}/${d.deliveryId}`;

  return {
    keys: {
      createOrg: async (orgId) => {
        if (orgs.has(orgId)) throw new ConflictError(`org '${orgId}' already exists`);
        orgs.add(orgId);
      },
      orgExists: async (orgId) => orgs.has(orgId),
      put: async (key) => keys.put(key.orgId, key.keyId, key),
      findByHash: async (hash) => keys.values().find((k) => k.keyHash === hash) ?? null,
      list: async (orgId, page) => keys.page(orgId, page, true),
      delete: async (orgId, keyId) => keys.delete(orgId, keyId),
    },
    workflows: {
      putVersion: async (orgId, def: WorkflowDefinition, definitionHash, at, by, opts = {}) => {
        const latest = getVersion(orgId, def.name);
        const next = nextWorkflowVersion(latest, { orgId, def, definitionHash, at, by, forceNew: opts.forceNew });
        if (!next.created) return next;
        const { version } = next;
        versions.put(`${orgId}/${def.name}`, pad(version.version), version);
        heads.set(`${orgId}/${def.name}`, { name: def.name, at });
        if (!byHash.has(`${orgId}/${definitionHash}`))
          byHash.set(`${orgId}/${definitionHash}`, { name: def.name, version: version.version });
        return { version, created: true };
      },
      get: async (orgId, name, version) => getVersion(orgId, name, version),
      getByHash: async (orgId, hash) => {
        const ref = byHash.get(`${orgId}/${hash}`);
        return ref ? getVersion(orgId, ref.name, ref.version) : null;
      },
      list: async (orgId, page) => {
        const names = [...heads.entries()]
          .filter(([k]) => k.startsWith(`${orgId}/`))
          .sort(([, a], [, b]) => (a.at < b.at ? 1 : -1))
          .map(([, h]) => getVersion(orgId, h.name) as WorkflowVersion);
        const from = page.cursor ? Number(page.cursor) : 0;
        const more = from + page.limit < names.length;
        return { items: names.slice(from, from + page.limit), nextCursor: more ? String(from + page.limit) : null };
      },
      listVersions: async (orgId, name, page) => versions.page(`${orgId}/${name}`, page, true),
    },
    idempotency: {
      claim: async (orgId, scope, key, id, nowMs) => {
        const k = `${orgId}/${scope}/${key}`;
        const held = claims.get(k);
        if (held && held.expiresAt > Math.floor(nowMs / 1000)) return held.id;
        claims.set(k, { id, claimedAt: nowMs, expiresAt: Math.floor(nowMs / 1000) + 86400 });
        return null;
      },
      takeOver: async (orgId, scope, key, fromId, toId, nowMs, staleBeforeMs) => {
        const k = `${orgId}/${scope}/${key}`;
        const held = claims.get(k);
        if (held?.id !== fromId || held.claimedAt >= staleBeforeMs) return false;
        claims.set(k, { id: toId, claimedAt: nowMs, expiresAt: Math.floor(nowMs / 1000) + 86400 });
        return true;
      },
      release: async (orgId, scope, key, id) => {
        const k = `${orgId}/${scope}/${key}`;
        if (claims.get(k)?.id === id) claims.delete(k);
      },
    },
    jobs: {
      getJob: async (orgId, name) => jobs.get(orgId, name),
      putJob: async (job, opts) => {
        if (opts.create && jobs.has(job.orgId, job.name)) throw stale(`job '${job.name}'`);
        jobs.put(job.orgId, job.name, job);
      },
      listJobs: async (orgId, page) => jobs.page(orgId, page, false),
      createJobRun: async (jr) => {
        if (jobRuns.has(jr.orgId, jr.jobRunId)) throw stale(`job run ${jr.jobRunId}`);
        jobRuns.put(jr.orgId, jr.jobRunId, { ...jr, rev: 0 });
      },
      getJobRun: async (orgId, id) => jobRuns.get(orgId, id),
      saveJobRun: async (next, readRev) => {
        if (jobRuns.get(next.orgId, next.jobRunId)?.rev !== readRev) throw stale(`job run ${next.jobRunId}`);
        jobRuns.put(next.orgId, next.jobRunId, { ...next, rev: readRev + 1 });
        next.rev = readRev + 1;
      },
      listJobRuns: async (orgId, by: { job?: string; status?: JobRunStatus }, page) => {
        const all = jobRuns.page(orgId, { limit: Number.MAX_SAFE_INTEGER }, true).items;
        const kept = all.filter(
          (j) => (!by.job || j.job === by.job) && (by.job || !by.status || j.status === by.status),
        );
        const from = page.cursor ? kept.findIndex((j) => j.jobRunId === page.cursor) + 1 : 0;
        const items = kept.slice(from, from + page.limit);
        return { items, nextCursor: from + page.limit < kept.length ? (items.at(-1)?.jobRunId ?? null) : null };
      },
      listActiveJobRuns: async () =>
        jobRuns
          .values()
          .filter((j) => j.status === "pending" || j.status === "in_progress")
          .map((j) => ({ orgId: j.orgId, jobRunId: j.jobRunId })),
      putWait: async (orgId, id, wait) => waits.put(orgId, id, wait),
      getWait: async (orgId, id) => waits.get(orgId, id),
      deleteWait: async (orgId, id) => {
        waits.delete(orgId, id);
      },
    },
    schedules: {
      get: async (orgId, name) => schedules.get(orgId, name),
      put: async (s) => schedules.put(s.orgId, s.name, s),
      list: async (orgId, page) => schedules.page(orgId, page, true),
      delete: async (orgId, name) => {
        for (const f of fires.all(`${orgId}/${name}`)) fires.delete(`${orgId}/${name}`, f.scheduledFor);
        states.delete(orgId, name);
        schedules.delete(orgId, name);
      },
      getState: async (orgId, name) => states.get(orgId, name),
      saveState: async (orgId, name, next) => {
        if ((states.get(orgId, name)?.stateRev ?? 0) !== next.stateRev - 1) throw stale(`schedule '${name}'`);
        states.put(orgId, name, next);
      },
      claimFiring: async (orgId, name, claim) => {
        if (fires.has(`${orgId}/${name}`, claim.scheduledFor)) return false;
        fires.put(`${orgId}/${name}`, claim.scheduledFor, claim);
        return true;
      },
    },
    subscriptions: {
      get: async (orgId, name) => subs.get(orgId, name),
      put: async (s) => subs.put(s.orgId, s.name, s),
      list: async (orgId, page, newestFirst) => subs.page(orgId, page, newestFirst),
      delete: async (orgId, name) => {
        subs.delete(orgId, name);
      },
    },
    deliveries: {
      get: async (orgId, sub, id) => deliveries.get(`${orgId}/${sub}`, id),
      list: async (orgId, sub, page) => deliveries.page(`${orgId}/${sub}`, page, true),
      save: async (d, opts) => {
        const cur = deliveries.get(`${d.orgId}/${d.subscription}`, d.deliveryId);
        const e = opts.expect;
        if (e && "absent" in e && cur) throw stale(`delivery ${d.deliveryId}`);
        if (e && "attempts" in e && !(cur ? cur.attempts === e.attempts : e.orAbsent))
          throw stale(`delivery ${d.deliveryId}`);
        deliveries.put(`${d.orgId}/${d.subscription}`, d.deliveryId, d);
        if (opts.unsent) unsent.add(dlvKey(d));
        else unsent.delete(dlvKey(d));
      },
      listUnsent: async (page) => {
        const all = deliveries
          .values()
          .filter((d) => unsent.has(dlvKey(d)))
          .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
        const from = page.cursor ? Number(page.cursor) : 0;
        const more = from + page.limit < all.length;
        return { items: all.slice(from, from + page.limit), nextCursor: more ? String(from + page.limit) : null };
      },
    },
    webhooks: {
      get: async (id) => structuredClone(hooks.get(id) ?? null),
      create: async (w) => {
        if (hooks.has(w.webhookId)) throw stale(`webhook ${w.webhookId}`);
        hooks.set(w.webhookId, structuredClone(w));
      },
      list: async (orgId, workflow, page) => {
        const all = [...hooks.values()]
          .filter((w) => w.orgId === orgId && w.workflow === workflow)
          .sort((a, b) => (a.webhookId < b.webhookId ? 1 : -1));
        const from = page.cursor ? Number(page.cursor) : 0;
        const more = from + page.limit < all.length;
        return { items: all.slice(from, from + page.limit), nextCursor: more ? String(from + page.limit) : null };
      },
      delete: async (id) => {
        hooks.delete(id);
      },
    },
    archive: {
      get: async (orgId, kind: ArchiveKind, name) => markers.get(orgId, `${kind}/${name}`),
      put: async (orgId, m) => markers.put(orgId, `${m.kind}/${m.name}`, m),
      delete: async (orgId, kind, name) => markers.delete(orgId, `${kind}/${name}`),
      all: async (orgId) => markers.all(orgId),
    },
    retention: {
      getSettings: async (orgId) => structuredClone(retention.get(orgId) ?? null),
      putSettings: async (orgId, s) => {
        retention.set(orgId, structuredClone(s));
      },
      orgsWithSettings: async () => ({ items: [...retention.keys()].map((orgId) => ({ orgId })), nextCursor: null }),
      markPurged: async (orgId, runId, p) => purged.put(orgId, runId, p),
      isPurged: async (orgId, runId) => purged.has(orgId, runId),
    },
    runSecrets: {
      put: async (orgId, runId, s) => secrets.put(`${orgId}/${runId}`, s.nodeId, s),
      list: async (orgId, runId) => secrets.all(`${orgId}/${runId}`),
      deleteAll: async (orgId, runId) => {
        for (const s of secrets.all(`${orgId}/${runId}`)) secrets.delete(`${orgId}/${runId}`, s.nodeId);
      },
    },
    fileUses: {
      put: async (u) =>
        uses.put(`${u.orgId}/${u.sha256}`, `${u.runId}#${u.nodeId}#${u.attempt}#${u.role}#${u.path}`, u),
      listByContent: async (orgId, sha, page) => uses.page(`${orgId}/${sha}`, page, true),
    },
    concurrency: {
      enqueue: async (orgId, wf, e) => queues.put(`${orgId}/${wf}`, e.runId, e),
      isQueued: async (orgId, wf, runId) => queues.has(`${orgId}/${wf}`, runId),
      queue: async (orgId, wf, limit) => queues.page(`${orgId}/${wf}`, { limit }, false).items,
      dequeue: async (orgId, wf, runId) => {
        queues.delete(`${orgId}/${wf}`, runId);
      },
      slots: async (orgId, wf) => structuredClone(slots.get(`${orgId}/${wf}`) ?? { holders: [], ver: 0 }),
      saveSlots: async (orgId, wf, holders, readVer) => {
        if ((slots.get(`${orgId}/${wf}`)?.ver ?? 0) !== readVer) throw stale(`slots of '${wf}'`);
        slots.set(`${orgId}/${wf}`, { holders: [...holders], ver: readVer + 1 });
      },
    },
  };
}
