import { z } from "zod";
import { ENGINE_VERSION } from "../../../shared/config.ts";
import { ROLES, RUN_STATUSES } from "../../../shared/domain/records.ts";
import { NotFoundError, ValidationError } from "../../../shared/errors.ts";
import { restartRun } from "../../../shared/runs/restart.ts";
import { createKey, createOrg, deleteKey, listKeys } from "../../../shared/use-cases/auth.ts";
import {
  auditTrail,
  cancelRun,
  listRuns,
  listTasks,
  loadRunOr404,
  rerun,
  runLogs,
  runView,
  triggerRun,
} from "../../../shared/use-cases/runs.ts";
import {
  archiveWorkflow,
  getWorkflow,
  listVersions,
  listWorkflows,
  putWorkflow,
  showWorkflow,
} from "../../../shared/use-cases/workflows.ts";
import { type ApiRequest, ok, pageOf, parseWith, type RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";

// Exported for the OpenAPI file (scripts/openapi-shapes.ts), which documents these very schemas.
const parametersBody = z.record(z.string(), z.unknown()).describe("the workflow's parameters, by name");
export const TriggerBody = z.object({ parameters: parametersBody.optional() }).strict();
export const RunBody = z
  .object({
    workflow: z.string().min(1),
    definitionHash: z.string().optional().describe("pins the run to this exact definition of the workflow"),
    parameters: parametersBody.optional(),
  })
  .strict();
export const RestartBody = z
  .object({
    from: z
      .array(z.string().min(1).max(64))
      .max(200)
      .optional()
      .describe("nodes to run again with everything downstream (default: every failed, cancelled or skipped node)"),
    definition: z
      .enum(["same", "latest"])
      .optional()
      .describe(
        "`latest`: the workflow's latest version; a node is carried over only if its own definition is unchanged",
      ),
  })
  .strict();
export const ArchivedQuery = z
  .object({
    archived: z.enum(["true", "false"]).optional().describe("`true` lists the archived ones instead"),
    limit: z.string().optional(),
    cursor: z.string().optional(),
  })
  .strict();
export const CancelBody = z.object({ reason: z.string().max(1000).optional() }).strict();
export const KeyBody = z
  .object({ name: z.string().min(1).max(100), role: z.enum(ROLES as [string, ...string[]]) })
  .strict();
export const OrgBody = z.object({ orgId: z.string() }).strict();
export const RunQuery = z
  .object({
    workflow: z.string().optional(),
    status: z.enum(RUN_STATUSES).optional(),
    jobRunId: z.string().optional(),
    limit: z.string().optional(),
    cursor: z.string().optional(),
  })
  .strict();

const manual = (r: ApiRequest) => ({ type: "manual" as const, userId: r.principal.userId });
const idem = (r: ApiRequest) => r.headers["idempotency-key"];

export const coreRoutes: Partial<Record<RouteKey, RouteHandler>> = {
  "GET /api/health": async () => ok({ status: "ok", engineVersion: ENGINE_VERSION }),
  "GET /api/whoami": async (r) =>
    ok({
      orgId: r.principal.orgId,
      keyId: r.principal.keyId,
      role: r.principal.role,
      userId: r.principal.userId,
      platform: r.principal.platform,
    }),
  "POST /api/orgs": async (r) => ok(await createOrg(r.deps, r.principal, parseWith(OrgBody, r.body).orgId), 201),
  "POST /api/keys": async (r) => {
    const b = parseWith(KeyBody, r.body);
    return ok(await createKey(r.deps, r.principal, b.name, b.role as (typeof ROLES)[number]), 201);
  },
  "GET /api/keys": async (r) => ok(await listKeys(r.deps, r.principal, pageOf(r.query))),
  "DELETE /api/keys/{keyId}": async (r) => {
    await deleteKey(r.deps, r.principal, r.path.keyId as string);
    return { status: 204 };
  },

  "GET /api/workflows": async (r) => {
    const q = parseWith(ArchivedQuery, r.query);
    return ok(await listWorkflows(r.deps, r.principal, pageOf(r.query), q.archived === "true"));
  },
  "DELETE /api/workflows/{name}": async (r) => {
    await archiveWorkflow(r.deps, r.principal, r.path.name as string);
    return { status: 204 };
  },
  "PUT /api/workflows/{name}": async (r) => {
    if (r.body === undefined) throw new ValidationError("a workflow definition is required in the body");
    const res = await putWorkflow(r.deps, r.principal, r.path.name as string, r.body);
    return ok(res.body, res.created ? 201 : 200);
  },
  "GET /api/workflows/{name}": async (r) => ok(await showWorkflow(r.deps, r.principal, r.path.name as string)),
  "GET /api/workflows/{name}/versions": async (r) =>
    ok(await listVersions(r.deps, r.principal, r.path.name as string, pageOf(r.query))),
  "GET /api/workflows/{name}/runs": async (r) => {
    await getWorkflow(r.deps, r.principal, r.path.name as string);
    const q = parseWith(RunQuery, r.query);
    return ok(await listRuns(r.deps, r.principal, { workflow: r.path.name, status: q.status }, pageOf(r.query)));
  },
  "POST /api/workflows/{name}/trigger": async (r) => {
    const b = parseWith(TriggerBody, r.body);
    return ok(
      await triggerRun(r.deps, r.principal, {
        workflow: r.path.name,
        parameters: b.parameters,
        idempotencyKey: idem(r),
        trigger: manual(r),
      }),
      202,
    );
  },
  "POST /api/workflows/by-hash/{definitionHash}/trigger": async (r) => {
    const b = parseWith(TriggerBody, r.body);
    return ok(
      await triggerRun(r.deps, r.principal, {
        definitionHash: r.path.definitionHash,
        parameters: b.parameters,
        idempotencyKey: idem(r),
        trigger: manual(r),
      }),
      202,
    );
  },

  "POST /api/runs": async (r) => {
    const b = parseWith(RunBody, r.body);
    return ok(
      await triggerRun(r.deps, r.principal, {
        workflow: b.workflow,
        definitionHash: b.definitionHash,
        parameters: b.parameters,
        idempotencyKey: idem(r),
        trigger: manual(r),
      }),
      202,
    );
  },
  "GET /api/runs": async (r) => {
    const q = parseWith(RunQuery, r.query);
    return ok(
      await listRuns(
        r.deps,
        r.principal,
        { workflow: q.workflow, status: q.status, jobRunId: q.jobRunId },
        pageOf(r.query),
      ),
    );
  },
  "GET /api/runs/{runId}": async (r) => ok(runView(await loadRunOr404(r.deps, r.principal, r.path.runId as string))),
  "GET /api/runs/{runId}/tasks": async (r) => {
    const state = await loadRunOr404(r.deps, r.principal, r.path.runId as string);
    return ok({ items: await listTasks(r.deps, state) });
  },
  "GET /api/runs/{runId}/tasks/{nodeId}": async (r) => {
    const state = await loadRunOr404(r.deps, r.principal, r.path.runId as string);
    const task = (await listTasks(r.deps, state)).find((t) => t.nodeId === r.path.nodeId);
    if (!task) throw new NotFoundError(`node '${r.path.nodeId}' not found in this run`);
    return ok(task);
  },
  "GET /api/runs/{runId}/logs": async (r) => {
    const state = await loadRunOr404(r.deps, r.principal, r.path.runId as string);
    return {
      status: 200,
      raw: { contentType: "text/plain; charset=utf-8", data: await runLogs(r.deps, state, r.query.node) },
    };
  },
  "GET /api/runs/{runId}/audit": async (r) => ok(await auditTrail(r.deps, r.principal, r.path.runId as string)),
  "POST /api/runs/{runId}/cancel": async (r) => {
    const b = parseWith(CancelBody, r.body);
    return ok(await cancelRun(r.deps, r.principal, r.path.runId as string, b.reason), 202);
  },
  "POST /api/runs/{runId}/rerun": async (r) => ok(await rerun(r.deps, r.principal, r.path.runId as string), 202),
  "POST /api/runs/{runId}/restart": async (r) =>
    ok(await restartRun(r.deps, r.principal, r.path.runId as string, parseWith(RestartBody, r.body ?? {})), 202),
};
