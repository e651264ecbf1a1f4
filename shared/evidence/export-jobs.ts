// Asynchronous evidence export: an export is started by the API (202 with its id), built by the export worker (a
// Lambda in the cloud, a task in the same process embedded) streaming the archive to object storage, and fetched
// when ready through a presigned URL or the API. Its status is a small JSON object next to the bundle, so exports
// need no table records and retention removes them with the run's other objects.
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { ID_PATTERN, newId } from "../domain/ids.ts";
import type { Principal } from "../domain/records.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { ExportJob } from "../ports/export-worker.ts";
import { loadRunOr404 } from "../runs/runs.ts";
import { streamBundle } from "./bundle.ts";
import { answerBlob, type BlobAnswer, loadMaterial } from "./evidence-service.ts";
import { producerIn } from "./reused-evidence.ts";
import { storedFileKey } from "./run-files.ts";

/** How long the URL handed back for a ready export may be used. */
export const EXPORT_URL_SECONDS = 900;

/** Where a run's exports are kept: the export worker may write under this prefix and nowhere else. */
export const exportsPrefix = (orgId: string, runId: string) => `orgs/${orgId}/runs/${runId}/exports/`;
const statusKey = (j: ExportJob) => `${exportsPrefix(j.orgId, j.runId)}${j.exportId}/status.json`;
// Named after the run, so a browser following the presigned URL saves it as `<runId>.tar.gz`.
export const exportBundleKey = (j: ExportJob) => `${exportsPrefix(j.orgId, j.runId)}${j.exportId}/${j.runId}.tar.gz`;

export type ExportState = "pending" | "building" | "ready" | "failed";

export interface ExportStatus {
  exportId: string;
  runId: string;
  status: ExportState;
  createdAt: string;
  updatedAt: string;
  /** The bundle's size in bytes once ready. */
  size: number | null;
  /** The run's evidence root the bundle carries (null while the run has none). */
  root: string | null;
  /** Why the build failed. */
  error: string | null;
}

async function readStatus(deps: Deps, job: ExportJob): Promise<ExportStatus | null> {
  for (let attempt = 1; ; attempt++) {
    const data = await deps.blobs.get(statusKey(job));
    if (!data) return null;
    try {
      return JSON.parse(data.toString("utf8")) as ExportStatus;
    } catch (err) {
      // S3 replaces an object atomically; the embedded store (s3rver) rewrites it in place, so a read racing the
      // worker's update can see half of it: read again.
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

async function writeStatus(deps: Deps, job: ExportJob, status: ExportStatus): Promise<ExportStatus> {
  const next = { ...status, updatedAt: nowIso(deps.clock) };
  await deps.blobs.put(statusKey(job), JSON.stringify(next), "application/json");
  return next;
}

/** Starts building the run's evidence bundle; answers at once with the export's id and status. */
export async function startExport(deps: Deps, p: Principal, runId: string): Promise<ExportStatus> {
  const { run } = await loadRunOr404(deps, p, runId);
  const job: ExportJob = { orgId: run.orgId, runId, exportId: newId("exp", deps.clock.nowMs()) };
  const at = nowIso(deps.clock);
  const status = await writeStatus(deps, job, {
    exportId: job.exportId,
    runId,
    status: "pending",
    createdAt: at,
    updatedAt: at,
    size: null,
    root: null,
    error: null,
  });
  try {
    await deps.exportWorker.start(job);
  } catch (err) {
    await writeStatus(deps, job, { ...status, status: "failed", error: "the export worker could not be started" });
    throw err;
  }
  return status;
}

async function statusOr404(deps: Deps, p: Principal, runId: string, exportId: string) {
  const { run } = await loadRunOr404(deps, p, runId);
  const job: ExportJob = { orgId: run.orgId, runId, exportId };
  const status = ID_PATTERN.test(exportId) && exportId.startsWith("exp_") ? await readStatus(deps, job) : null;
  if (!status) throw new NotFoundError(`export '${exportId}' of run '${runId}' not found`);
  return { job, status };
}

/** An export's status; when ready, with a presigned URL of the bundle (where storage can sign one). */
export async function exportStatus(
  deps: Deps,
  p: Principal,
  runId: string,
  exportId: string,
): Promise<ExportStatus & { url: string | null }> {
  const { job, status } = await statusOr404(deps, p, runId, exportId);
  const url =
    status.status === "ready" && deps.blobs.presignGet
      ? await deps.blobs.presignGet(exportBundleKey(job), EXPORT_URL_SECONDS)
      : null;
  return { ...status, url };
}

/** A ready export's bundle: its bytes, or a redirect to a presigned URL; 409 while it is not ready. */
export async function exportedBundle(deps: Deps, p: Principal, runId: string, exportId: string): Promise<BlobAnswer> {
  const { job, status } = await statusOr404(deps, p, runId, exportId);
  if (status.status !== "ready")
    throw new ConflictError(
      status.status === "failed"
        ? `export '${exportId}' failed: ${status.error ?? "unknown error"}; start another`
        : `export '${exportId}' is still ${status.status}; poll GET /api/runs/${runId}/exports/${exportId}`,
    );
  return answerBlob(deps, exportBundleKey(job), status.size ?? 0, "application/gzip", {
    "content-disposition": `attachment; filename="${runId}.tgz"`,
    ...(status.root ? { "x-stepwise-root": status.root } : {}),
  });
}

/**
 * The export worker's work: builds the bundle streaming it to storage (a multipart upload; only one stored object
 * at a time is staged on local disk) and records the outcome in the export's status. A build asked again once done
 * (a retried asynchronous invocation) does nothing; a failure is recorded, not thrown, so it is not built twice.
 */
export async function buildExport(deps: Deps, job: ExportJob): Promise<ExportStatus> {
  const status = await readStatus(deps, job);
  if (!status) throw new NotFoundError(`export '${job.exportId}' of run '${job.runId}' not found`);
  if (status.status === "ready" || status.status === "failed") return status;
  const building = await writeStatus(deps, job, { ...status, status: "building" });
  try {
    const material = await loadMaterial(deps, job.orgId, job.runId);
    let size = 0;
    const { root } = await streamBundle(
      {
        material,
        blobs: deps.blobs,
        fileKey: (nodeId, attempt, path) =>
          storedFileKey(job.orgId, job.runId, producerIn(material, nodeId), nodeId, attempt, path),
        exportedAt: nowIso(deps.clock),
      },
      async (gzip) => {
        size = await deps.blobs.putStream(exportBundleKey(job), gzip, "application/gzip");
      },
    );
    return await writeStatus(deps, job, { ...building, status: "ready", size, root });
  } catch (err) {
    deps.logger.error("export failed", { runId: job.runId, exportId: job.exportId, error: String(err) });
    return writeStatus(deps, job, { ...building, status: "failed", error: (err as Error).message });
  }
}
