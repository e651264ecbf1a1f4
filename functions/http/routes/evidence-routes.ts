import { z } from "zod";
import {
  type BlobAnswer,
  compareTwoRuns,
  exportRun,
  lineageOfRun,
  listRunFiles,
  runFile,
  verifyRun,
} from "../../../shared/evidence/evidence-service.ts";
import { fileLineage } from "../../../shared/evidence/lineage.ts";
import { type ApiResponse, ok, pageOf, parseWith, type RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";

export const FileQuery = z
  .object({
    producedBy: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe("the node id of another writer of the same path (default: the latest writer)"),
  })
  .strict();
const PageQuery = z.object({ limit: z.string().optional(), cursor: z.string().optional() }).strict();

/** Bytes inline, or a 302 to a presigned URL for large ones. */
function blobResponse(a: BlobAnswer): ApiResponse {
  const headers = { ...a.headers, "x-content-type-options": "nosniff" };
  if (a.kind === "redirect") return { status: 302, headers: { ...headers, location: a.location } };
  return { status: 200, raw: { contentType: a.contentType, data: a.data }, headers };
}

/** Routes of the evidence area. */
export const routes: Partial<Record<RouteKey, RouteHandler>> = {
  "GET /api/runs/{runId}/files": async (r) => ok(await listRunFiles(r.deps, r.principal, r.path.runId as string)),
  "GET /api/runs/{runId}/files/{path+}": async (r) => {
    const q = parseWith(FileQuery, r.query);
    const path = (r.path["path+"] ?? r.path.path) as string;
    return blobResponse(await runFile(r.deps, r.principal, r.path.runId as string, path, q.producedBy));
  },
  "GET /api/runs/{runId}/lineage": async (r) => ok(await lineageOfRun(r.deps, r.principal, r.path.runId as string)),
  "GET /api/runs/{runId}/verify": async (r) => ok(await verifyRun(r.deps, r.principal, r.path.runId as string)),
  "GET /api/runs/{runId}/export": async (r) =>
    blobResponse(await exportRun(r.deps, r.principal, r.path.runId as string)),
  "GET /api/runs/{runId}/compare/{otherRunId}": async (r) =>
    ok(await compareTwoRuns(r.deps, r.principal, r.path.runId as string, r.path.otherRunId as string)),
  "GET /api/files/{sha256}/lineage": async (r) => {
    parseWith(PageQuery, r.query);
    return ok(await fileLineage(r.deps, r.principal, r.path.sha256 as string, pageOf(r.query)));
  },
};
