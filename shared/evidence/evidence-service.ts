import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import type { Principal } from "../domain/records.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { definitionOf, loadRunOr404 } from "../runs/runs.ts";
import { writeBundle } from "./bundle.ts";
import { compareRuns, type RunComparison } from "./compare.ts";
import { contentTypeOf, digestBlob } from "./hashing.ts";
import { type LineageGraph, runLineage } from "./lineage.ts";
import { checkReusedEvidence, producerIn } from "./reused-evidence.ts";
import { currentFiles, normalizeRunPath, producedFiles, storedFileKey } from "./run-files.ts";
import { taskRecordsOf } from "./stored-records.ts";
import type { EvidenceMaterial, VerifyReport } from "./verify.ts";
import { verifyMaterial } from "./verify.ts";

/** Bodies up to this size are answered inline; larger ones by a redirect to a presigned URL. */
export const INLINE_MAX_BYTES = 1024 * 1024;
const PRESIGN_SECONDS = 300;

/** The synchronous export builds bundles of up to this much content; larger runs are exported asynchronously. */
export const SYNC_EXPORT_MAX_BYTES = 32 * 1024 * 1024;

/** Where a run's latest exported evidence bundle is kept. */
export const bundleKey = (orgId: string, runId: string) => `orgs/${orgId}/runs/${runId}/evidence/bundle.tgz`;

/** A stored object as an HTTP answer: its bytes, or where to fetch them. */
export type BlobAnswer =
  | { kind: "inline"; data: Buffer; contentType: string; headers: Record<string, string> }
  | { kind: "redirect"; location: string; headers: Record<string, string> };

export async function answerBlob(
  deps: Deps,
  key: string,
  size: number,
  contentType: string,
  headers: Record<string, string>,
): Promise<BlobAnswer> {
  if (size > INLINE_MAX_BYTES && deps.blobs.presignGet) {
    return { kind: "redirect", location: await deps.blobs.presignGet(key, PRESIGN_SECONDS), headers };
  }
  const data = await deps.blobs.get(key);
  if (!data) throw new NotFoundError("the file's content is no longer stored (retention may have removed it)");
  return { kind: "inline", data, contentType, headers };
}

/** The run's files: one per path (the latest writer wins), with hash, size and producer. */
export async function listRunFiles(deps: Deps, p: Principal, runId: string) {
  const state = await loadRunOr404(deps, p, runId);
  const items = [...currentFiles(state.tasks.values()).values()].map((f) => ({
    path: f.path,
    sha256: f.sha256,
    size: f.size,
    producedBy: f.producedBy,
  }));
  return { items, nextCursor: null };
}

/** One run file's bytes (or a redirect to them); `producedBy` picks another writer's version of the same path. */
export async function runFile(deps: Deps, p: Principal, runId: string, rawPath: string, producedBy?: string) {
  const state = await loadRunOr404(deps, p, runId);
  let path: string;
  try {
    path = normalizeRunPath(rawPath);
  } catch {
    throw new ValidationError(`'${rawPath}' is not a run file path`, [{ path: "path", message: "relative path" }]);
  }
  const file = producedBy
    ? producedFiles(state.tasks.values())
        .filter((f) => f.path === path && f.producedBy === producedBy)
        .pop()
    : currentFiles(state.tasks.values()).get(path);
  if (!file) throw new NotFoundError(`run file '${path}' not found in this run`);
  const producer = state.tasks.get(file.producedBy);
  return answerBlob(
    deps,
    storedFileKey(state.run.orgId, state.run.runId, producer, file.producedBy, file.attempt, file.path),
    file.size,
    contentTypeOf(file.path),
    { "x-stepwise-sha256": file.sha256, "x-stepwise-produced-by": file.producedBy },
  );
}

/** The run's lineage graph. */
export async function lineageOfRun(deps: Deps, p: Principal, runId: string): Promise<LineageGraph> {
  const state = await loadRunOr404(deps, p, runId);
  return runLineage(state, await definitionOf(deps, state.run));
}

/** Everything stored about a run, read raw from the table, for verification and export. */
export async function loadMaterial(deps: Deps, orgId: string, runId: string): Promise<EvidenceMaterial> {
  const material: EvidenceMaterial = { ...(await deps.store.storedRun(orgId, runId)), workflow: null };
  const hash = (material.run?.workflow as { definitionHash?: unknown } | undefined)?.definitionHash;
  if (typeof hash === "string") {
    const wf = await deps.repos.workflows.getByHash(orgId, hash);
    if (wf)
      material.workflow = {
        name: wf.name,
        version: wf.version,
        definitionHash: wf.definitionHash,
        definition: wf.definition,
      };
  }
  return material;
}

/** Recomputes the audit chain, the records, the manifest root and every stored file's and log's hash. */
export async function verifyRun(deps: Deps, p: Principal, runId: string): Promise<VerifyReport> {
  const state = await loadRunOr404(deps, p, runId);
  const { orgId } = state.run;
  return verifyStored(deps, orgId, runId, new Set());
}

/** Verifies a run, and for a restarted run every run its carried-over evidence came from, back to the original. */
async function verifyStored(deps: Deps, orgId: string, runId: string, seen: Set<string>): Promise<VerifyReport> {
  seen.add(runId);
  const material = await loadMaterial(deps, orgId, runId);
  const report = await verifyMaterial(material, {
    file: (nodeId, attempt, path) =>
      digestBlob(deps.blobs, storedFileKey(orgId, runId, producerIn(material, nodeId), nodeId, attempt, path)),
    log: (_n, _a, key) => digestBlob(deps.blobs, key),
  });
  const origins = await checkReusedEvidence(material, (id) => loadMaterial(deps, orgId, id));
  for (const origin of origins.runs) {
    if (seen.has(origin)) continue;
    const sub = await verifyStored(deps, orgId, origin, seen);
    for (const problem of sub.problems) origins.problems.push(`restarted from ${origin}: ${problem}`);
  }
  if (origins.problems.length) {
    report.problems.push(...origins.problems);
    report.valid = false;
  }
  return origins.runs.length ? { ...report, restartedFrom: origins.runs } : report;
}

/** Task-by-task comparison of two runs of the caller's org. */
export async function compareTwoRuns(deps: Deps, p: Principal, runId: string, otherId: string): Promise<RunComparison> {
  const a = await loadRunOr404(deps, p, runId);
  const b = await loadRunOr404(deps, p, otherId);
  return compareRuns(
    { state: a, definition: await definitionOf(deps, a.run) },
    { state: b, definition: await definitionOf(deps, b.run) },
  );
}

/** What a bundle of the run would hold in files and logs, before compression: the stored sizes, summed. */
async function contentBytes(deps: Deps, material: EvidenceMaterial): Promise<number> {
  let total = 0;
  const logKeys: string[] = [];
  // The records as the engine saw them: a stored task keeps its current attempt at the top level.
  for (const t of taskRecordsOf(material.tasks)) {
    for (const a of t.attempts ?? []) {
      for (const f of a.outputs ?? []) total += f.size;
      if (a.logInline !== undefined) total += Buffer.byteLength(a.logInline);
      else if (a.logKey) logKeys.push(a.logKey);
    }
  }
  for (let i = 0; i < logKeys.length && total <= SYNC_EXPORT_MAX_BYTES; i += 16) {
    const sizes = await Promise.all(logKeys.slice(i, i + 16).map((k) => deps.blobs.size(k)));
    for (const s of sizes) total += s ?? 0;
  }
  return total;
}

/** Builds the run's evidence bundle (tar.gz), stores it next to the run and answers with it. */
export async function exportRun(deps: Deps, p: Principal, runId: string): Promise<BlobAnswer> {
  const state = await loadRunOr404(deps, p, runId);
  const { orgId } = state.run;
  const material = await loadMaterial(deps, orgId, runId);
  const content = await contentBytes(deps, material);
  if (content > SYNC_EXPORT_MAX_BYTES)
    throw new ConflictError(
      `the run holds ${Math.ceil(content / 1048576)} MiB of files and logs, more than the ${SYNC_EXPORT_MAX_BYTES / 1048576} MiB a synchronous export builds: start an asynchronous export with POST /api/runs/${runId}/exports and fetch it when ready`,
      [{ path: "runId", message: `use POST /api/runs/${runId}/exports` }],
    );
  const dir = await mkdtemp(join(tmpdir(), "stepwise-export-"));
  try {
    const file = join(dir, "bundle.tgz");
    const { size, root } = await writeBundle(
      {
        material,
        blobs: deps.blobs,
        fileKey: (nodeId, attempt, path) =>
          storedFileKey(orgId, runId, producerIn(material, nodeId), nodeId, attempt, path),
        exportedAt: nowIso(deps.clock),
      },
      file,
    );
    const headers = {
      "content-disposition": `attachment; filename="${runId}.tgz"`,
      ...(root ? { "x-stepwise-root": root } : {}),
    };
    if (size <= INLINE_MAX_BYTES) {
      // Small bundles go straight back; they are still kept, like large ones, as the run's latest export.
      const data = await readFile(file);
      await deps.blobs.put(bundleKey(orgId, runId), data, "application/gzip", size);
      return { kind: "inline", data, contentType: "application/gzip", headers };
    }
    await deps.blobs.put(bundleKey(orgId, runId), createReadStream(file), "application/gzip", size);
    return answerBlob(deps, bundleKey(orgId, runId), size, "application/gzip", headers);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
