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
import { type ApiResponse, defineRoute, json, ok, type SuccessDoc } from "../route.ts";
import { Compare, FileLineage, FileQuery, Lineage, RunFileList, Verify } from "../schemas/evidence-schemas.ts";

/** Bytes inline, or a 302 to a presigned URL for large ones. */
export function blobResponse(a: BlobAnswer): ApiResponse {
  const headers = { ...a.headers, "x-content-type-options": "nosniff" };
  if (a.kind === "redirect") return { status: 302, headers: { ...headers, location: a.location } };
  return { status: 200, raw: { contentType: a.contentType, data: a.data }, headers };
}

const bytes = { "*/*": { schema: { type: "string", contentMediaType: "application/octet-stream" } } };
export const redirect = (what: string): SuccessDoc => ({
  description: `${what} larger than 1 MiB (cloud deployment): a redirect to a presigned URL valid for 5 minutes`,
  headers: { location: "the presigned URL" },
});

/** A bundle as an answer's body. */
export const bundleContent: SuccessDoc = {
  description: "The bundle",
  content: { "application/gzip": { schema: { type: "string", contentMediaType: "application/gzip" } } },
  headers: {
    "content-disposition": 'attachment; filename="<runId>.tgz"',
    "x-stepwise-root": "the run's sealed evidence root (absent while the run is not sealed)",
  },
};

/** The evidence of runs: files, lineage, verification, export and comparison. */
export const evidenceRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/files",
    access: "viewer",
    summary: "The run's files",
    responses: { 200: json(RunFileList, "One entry per path (the latest writer wins); not paged (nextCursor null)") },
    handler: async (r) => ok(await listRunFiles(r.deps, r.principal, r.params.runId)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/files/{path+}",
    access: "viewer",
    summary: "A run file's bytes",
    query: FileQuery,
    responses: {
      200: {
        description: "The bytes, typed by the file's extension",
        content: bytes,
        headers: {
          "x-stepwise-sha256": "the file's sha256:<hex>",
          "x-stepwise-produced-by": "the node that wrote this version",
        },
      },
      302: redirect("A file"),
    },
    errors: {
      400: "not a relative run file path",
      404: "no such run or file, or its content is no longer stored (retention)",
    },
    handler: async (r) =>
      blobResponse(await runFile(r.deps, r.principal, r.params.runId, r.params.path, r.query.producedBy)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/lineage",
    access: "viewer",
    summary: "The run's lineage graph",
    responses: { 200: json(Lineage, "Parameters, tasks and files, and the edges between them") },
    handler: async (r) => ok(await lineageOfRun(r.deps, r.principal, r.params.runId)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/verify",
    access: "viewer",
    summary: "Recompute the audit chain and the evidence manifest from what is stored",
    responses: {
      200: json(
        Verify,
        "The report. Beyond the contract: `runId`, `sealedRoot`, `sealed`, `checked`, `eventsAfterSeal`",
      ),
    },
    handler: async (r) => ok(await verifyRun(r.deps, r.principal, r.params.runId)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/export",
    access: "viewer",
    summary: "The run's evidence bundle (an addition to the contract)",
    description:
      "A tar.gz holding the run, task and audit records, the manifest, every file and log; `stepwise verify <file>` checks it without a server. The bundle is also kept next to the run. Built within the request, so only for runs of up to 32 MiB of files and logs; larger runs: `POST /api/runs/{runId}/exports`.",
    responses: {
      200: bundleContent,
      302: redirect("A bundle"),
    },
    errors: {
      409: "the run holds more than 32 MiB of files and logs: export it with POST /api/runs/{runId}/exports instead",
    },
    handler: async (r) => blobResponse(await exportRun(r.deps, r.principal, r.params.runId)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/compare/{otherRunId}",
    access: "viewer",
    summary: "Compare two runs task by task",
    responses: { 200: json(Compare, "Per task, whether definition, inputs and outputs match by hash") },
    errors: { 404: "either run does not exist in the org" },
    handler: async (r) => ok(await compareTwoRuns(r.deps, r.principal, r.params.runId, r.params.otherRunId)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/files/{sha256}/lineage",
    access: "viewer",
    summary: "Every run and task of the org that produced or read some content",
    paged: true,
    query: z.object({}).strict(),
    responses: { 200: json(FileLineage, "Uses of the content, newest runs first (empty when none)") },
    errors: { 400: "not a sha256 hash", 404: false },
    handler: async (r) => ok(await fileLineage(r.deps, r.principal, r.params.sha256, r.page)),
  }),
] as const;
