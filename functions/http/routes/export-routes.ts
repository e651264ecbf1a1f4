import { exportedBundle, exportStatus, startExport } from "../../../shared/evidence/export-jobs.ts";
import { defineRoute, json, ok } from "../route.ts";
import { ExportAccepted, ExportStatusSchema } from "../schemas/export-schemas.ts";
import { blobResponse, bundleContent, redirect } from "./evidence-routes.ts";

/** Asynchronous export of a run's evidence bundle: started, polled, fetched (additions to the contract). */
export const exportRoutes = [
  defineRoute({
    method: "POST",
    path: "/api/runs/{runId}/exports",
    access: "viewer",
    summary: "Start building the run's evidence bundle (an addition to the contract)",
    description:
      "The bundle is built away from the request (a Lambda of up to 15 minutes in the cloud) and streamed to storage; poll the export's status, then fetch it. For runs of any size; `GET /api/runs/{runId}/export` answers at once for runs of up to 32 MiB of files and logs.",
    responses: { 202: json(ExportAccepted, "The export is pending") },
    handler: async (r) => ok(await startExport(r.deps, r.principal, r.params.runId), 202),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/exports/{exportId}",
    access: "viewer",
    summary: "An export's status, and where to fetch the bundle once it is ready",
    responses: { 200: json(ExportStatusSchema, "The export's status") },
    errors: { 404: "no such run, or no such export of it" },
    handler: async (r) => ok(await exportStatus(r.deps, r.principal, r.params.runId, r.params.exportId)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/exports/{exportId}/bundle",
    access: "viewer",
    summary: "A ready export's bundle",
    responses: { 200: bundleContent, 302: redirect("A bundle") },
    errors: {
      404: "no such run, or no such export of it",
      409: "the export is not ready (still building, or failed)",
    },
    handler: async (r) => blobResponse(await exportedBundle(r.deps, r.principal, r.params.runId, r.params.exportId)),
  }),
] as const;
