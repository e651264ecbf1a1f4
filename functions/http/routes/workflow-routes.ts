import { listRuns, triggerRun } from "../../../shared/runs/runs.ts";
import {
  archiveWorkflow,
  getWorkflow,
  listVersions,
  listWorkflows,
  putWorkflow,
  showWorkflow,
} from "../../../shared/workflows/workflows.ts";
import { defineRoute, json, ok, type RouteRequest } from "../route.ts";
import {
  ArchivedQuery,
  RunAccepted,
  RunList,
  RunQuery,
  TriggerBody,
  WorkflowBody,
  WorkflowList,
  WorkflowPut,
  WorkflowVersion,
  WorkflowVersionList,
} from "../schemas/run-schemas.ts";

/** A manual trigger by the caller, with the request's Idempotency-Key. */
export const manualTrigger = (r: RouteRequest<string, unknown, unknown>) => ({
  idempotencyKey: r.headers["idempotency-key"],
  trigger: { type: "manual" as const, userId: r.principal.userId },
});
const accepted = "The run is queued (the same Idempotency-Key within 24 h: the same run)";
const idempotencyConflict = "a run for this Idempotency-Key is still being created; retry with the same key";

/** Workflow definitions, their versions and runs, and triggering them. */
export const workflowRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/workflows",
    access: "viewer",
    summary: "List workflows (latest version of each)",
    paged: true,
    query: ArchivedQuery,
    responses: { 200: json(WorkflowList, "The org's active workflows (with `?archived=true`: the archived ones)") },
    handler: async (r) => ok(await listWorkflows(r.deps, r.principal, r.page, r.query.archived === "true")),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/workflows/{name}",
    access: "operator",
    summary: "Archive a workflow",
    responses: {
      204: {
        description:
          "Archived: hidden from the default list, not triggerable by name (by hash still works); schedules and webhooks targeting it stop firing; PUT restores it as a new version",
      },
    },
    handler: async (r) => {
      await archiveWorkflow(r.deps, r.principal, r.params.name);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "PUT",
    path: "/api/workflows/{name}",
    access: "operator",
    summary: "Store a workflow definition",
    // putWorkflow validates the definition itself: its messages name the node at fault.
    bodyDoc: WorkflowBody,
    responses: {
      201: json(WorkflowPut, "A new version was created"),
      200: json(WorkflowPut, "The definition equals the latest version; nothing changed"),
    },
    errors: {
      400: "an invalid definition (a cycle, an unknown `needs`, a duplicate id, a bad field; the message names the node) or a name that differs from the path",
      409: "the workflow is being changed concurrently; try again",
    },
    handler: async (r) => {
      const res = await putWorkflow(r.deps, r.principal, r.params.name, r.json ?? {});
      return ok(res.body, res.created ? 201 : 200);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/workflows/{name}",
    access: "viewer",
    summary: "The latest version of a workflow",
    responses: { 200: json(WorkflowVersion, "The latest version, with its definition") },
    handler: async (r) => ok(await showWorkflow(r.deps, r.principal, r.params.name)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/workflows/{name}/versions",
    access: "viewer",
    summary: "Every version of a workflow, newest first",
    paged: true,
    responses: { 200: json(WorkflowVersionList, "The versions") },
    handler: async (r) => ok(await listVersions(r.deps, r.principal, r.params.name, r.page)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/workflows/{name}/runs",
    access: "viewer",
    summary: "The workflow's runs",
    paged: true,
    query: RunQuery.pick({ status: true }),
    responses: { 200: json(RunList, "Run summaries, newest first") },
    handler: async (r) => {
      await getWorkflow(r.deps, r.principal, r.params.name);
      return ok(await listRuns(r.deps, r.principal, { workflow: r.params.name, status: r.query.status }, r.page));
    },
  }),
  defineRoute({
    method: "POST",
    path: "/api/workflows/{name}/trigger",
    access: "operator",
    summary: "Start a run of the latest version",
    body: TriggerBody,
    headers: ["IdempotencyKey"],
    responses: { 202: json(RunAccepted, accepted) },
    errors: {
      400: "missing or mistyped parameters (no run is created), or an Idempotency-Key over 200 characters",
      409: idempotencyConflict,
    },
    handler: async (r) =>
      ok(
        await triggerRun(r.deps, r.principal, {
          workflow: r.params.name,
          parameters: r.body.parameters,
          ...manualTrigger(r),
        }),
        202,
      ),
  }),
  defineRoute({
    method: "POST",
    path: "/api/workflows/by-hash/{definitionHash}/trigger",
    access: "operator",
    summary: "Start a run pinned to an exact definition",
    body: TriggerBody,
    headers: ["IdempotencyKey"],
    responses: { 202: json(RunAccepted, accepted) },
    errors: {
      400: "a definitionHash that is not sha256:<64 hex>, or missing or mistyped parameters (no run is created)",
      404: "no definition with this hash in the org",
      409: idempotencyConflict,
    },
    handler: async (r) =>
      ok(
        await triggerRun(r.deps, r.principal, {
          definitionHash: r.params.definitionHash,
          parameters: r.body.parameters,
          ...manualTrigger(r),
        }),
        202,
      ),
  }),
] as const;
