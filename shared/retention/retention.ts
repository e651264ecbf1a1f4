import type { Deps } from "../deps.ts";
import { nowIso, parseIsoMicro } from "../domain/clock.ts";
import { isTerminalRun, type Page, type Principal, type RunRecord } from "../domain/records.ts";
import { ValidationError } from "../errors.ts";
import type { RetentionSettings } from "../ports/repositories.ts";

export type { RetentionSettings };

const DEFAULTS: RetentionSettings = { days: null, keepEvidence: true, updatedAt: null, updatedBy: null };

/** The org's retention settings (defaults: keep everything). */
export async function getRetention(deps: Deps, orgId: string): Promise<RetentionSettings> {
  const item = await deps.repos.retention.getSettings(orgId);
  if (!item) return DEFAULTS;
  return { days: item.days, keepEvidence: item.keepEvidence, updatedAt: item.updatedAt, updatedBy: item.updatedBy };
}

/** Stores the org's retention settings; the next sweep applies them. */
export async function putRetention(deps: Deps, p: Principal, body: { days: number; keepEvidence?: boolean }) {
  if (!Number.isInteger(body.days) || body.days < 1 || body.days > 36500) {
    throw new ValidationError("days must be a whole number from 1 to 36500", [{ path: "days", message: "1 to 36500" }]);
  }
  const settings: RetentionSettings = {
    days: body.days,
    keepEvidence: body.keepEvidence ?? true,
    updatedAt: nowIso(deps.clock),
    updatedBy: p.userId,
  };
  await deps.repos.retention.putSettings(p.orgId, settings);
  return settings;
}

export interface SweepResult {
  orgId: string;
  runsPurged: number;
  objectsDeleted: number;
  recordsDeleted: number;
}

/**
 * Deletes the logs and file contents of the org's runs that ended before the cutoff, once per run; without
 * keepEvidence the run's records and audit chain go too. Each purge is remembered so a run is swept once.
 */
export async function sweepRetention(deps: Deps, orgId: string, nowMs = deps.clock.nowMs()): Promise<SweepResult> {
  const result: SweepResult = { orgId, runsPurged: 0, objectsDeleted: 0, recordsDeleted: 0 };
  const settings = await getRetention(deps, orgId);
  if (settings.days === null) return result;
  const cutoff = nowMs - settings.days * 86_400_000;
  let cursor: string | null = null;
  do {
    const page: Page<RunRecord> = await deps.store.listRuns(orgId, {}, { limit: 100, cursor });
    cursor = page.nextCursor;
    for (const run of page.items) {
      if (!isTerminalRun(run.status) || !run.completedAt || parseIsoMicro(run.completedAt) >= cutoff) continue;
      if (await isPurged(deps, orgId, run.runId)) continue;
      for (const key of await deps.blobs.list(`orgs/${orgId}/runs/${run.runId}/`)) {
        await deps.blobs.delete(key);
        result.objectsDeleted++;
      }
      if (!settings.keepEvidence) {
        result.recordsDeleted += await deps.store.deleteRunRecords(orgId, run.runId);
      }
      await deps.repos.retention.markPurged(orgId, run.runId, {
        at: nowIso(deps.clock),
        keepEvidence: settings.keepEvidence,
        days: settings.days,
      });
      result.runsPurged++;
    }
  } while (cursor);
  return result;
}

/** Whether the retention sweep has purged this run's logs and file contents. */
export async function isPurged(deps: Deps, orgId: string, runId: string): Promise<boolean> {
  return deps.repos.retention.isPurged(orgId, runId);
}

/** Sweeps every org that has a retention policy. */
export async function sweepAllOrgs(deps: Deps, nowMs?: number): Promise<SweepResult[]> {
  const out: SweepResult[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<{ orgId: string }> = await deps.repos.retention.orgsWithSettings({ limit: 100, cursor });
    cursor = page.nextCursor;
    for (const s of page.items) out.push(await sweepRetention(deps, s.orgId, nowMs));
  } while (cursor);
  return out;
}
