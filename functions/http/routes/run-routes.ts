import { z } from "zod";
import { NotFoundError } from "../../../shared/errors.ts";
import { textAnswer } from "../../../shared/human-steps/large-answers.ts";
import { restartRun } from "../../../shared/runs/restart.ts";
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
} from "../../../shared/runs/runs.ts";
import { defineRoute, json, ok } from "../route.ts";
import {
  AuditTrail,
  CancelAccepted,
  CancelBody,
  RestartAccepted,
  RestartBody,
  RunAccepted,
  RunBody,
  RunList,
  RunQuery,
  RunView,
  TaskList,
  TaskView,
} from "../schemas/run-schemas.ts";
import { manualTrigger } from "./workflow-routes.ts";

/** Runs: starting, listing, reading, their tasks, logs and audit chain, cancel and rerun. */
export const runRoutes = [
  defineRoute({
    method: "POST",
    path: "/api/runs",
    access: "operator",
    summary: "Start a run of a workflow (optionally pinned to a definitionHash)",
    body: RunBody,
    headers: ["IdempotencyKey"],
    responses: { 202: json(RunAccepted, "The run is queued, as for trigger") },
    errors: {
      400: "missing or mistyped parameters (no run is created), a bad definitionHash or Idempotency-Key",
      404: "no such workflow, or no definition with that hash",
      409: "a run for this Idempotency-Key is still being created; retry with the same key",
    },
    handler: async (r) =>
      ok(
        await triggerRun(r.deps, r.principal, {
          workflow: r.body.workflow,
          definitionHash: r.body.definitionHash,
          parameters: r.body.parameters,
          ...manualTrigger(r),
        }),
        202,
      ),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs",
    access: "viewer",
    summary: "List runs",
    paged: true,
    query: RunQuery,
    responses: { 200: json(RunList, "Run summaries, newest first (beyond the contract: `durationMs`)") },
    handler: async (r) => ok(await listRuns(r.deps, r.principal, r.query, r.page)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}",
    access: "viewer",
    summary: "A run",
    responses: {
      200: json(
        RunView,
        "The run. Beyond the contract: `root` (the evidence root sealed when the run ended, null until then) and each context entry's `writtenBy`",
      ),
    },
    handler: async (r) => ok(runView(await loadRunOr404(r.deps, r.principal, r.params.runId))),
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/tasks",
    access: "viewer",
    summary: "Every task's evidence",
    responses: { 200: json(TaskList, "One task per node, in definition order (not paged: no nextCursor)") },
    handler: async (r) => {
      const state = await loadRunOr404(r.deps, r.principal, r.params.runId);
      return ok({ items: await listTasks(r.deps, state) });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/tasks/{nodeId}",
    access: "viewer",
    summary: "One task's evidence",
    responses: {
      200: json(
        TaskView,
        "The task. Beyond the contract: `error`, `logSha256`, `maskedOutputs`, `noActionReason` and, for human steps, `waitingSince`, `decisions`, `submittedBy`",
      ),
    },
    errors: { 404: "no such run, or no such node in it" },
    handler: async (r) => {
      const state = await loadRunOr404(r.deps, r.principal, r.params.runId);
      const task = (await listTasks(r.deps, state)).find((t) => t.nodeId === r.params.nodeId);
      if (!task) throw new NotFoundError(`node '${r.params.nodeId}' not found in this run`);
      return ok(task);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/logs",
    access: "viewer",
    summary: "The run's logs as text",
    query: z.object({ node: z.string().optional().describe("only this node's lines") }),
    responses: {
      200: {
        description:
          "Lines prefixed with the node id (`node#attempt` for retries), then `|` for stdout or `!` for stderr",
        content: { "text/plain": { schema: { type: "string" } } },
      },
      302: { description: "Logs past 4 MiB: a redirect to a presigned URL of the text (5 minutes)" },
    },
    errors: { 404: "no such run, or no such node in it" },
    handler: async (r) => {
      const state = await loadRunOr404(r.deps, r.principal, r.params.runId);
      const contentType = "text/plain; charset=utf-8";
      const where = { orgId: state.run.orgId, runId: state.run.runId, name: `logs-${r.query.node ?? "all"}` };
      // Past what a Lambda response can carry, a redirect to the logs in S3 (presigned, 5 minutes).
      const answer = await textAnswer(r.deps, where, await runLogs(r.deps, state, r.query.node), contentType);
      if ("location" in answer) return { status: 302, headers: { location: answer.location } };
      return { status: 200, raw: { contentType, data: answer.text } };
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/runs/{runId}/audit",
    access: "viewer",
    summary: "The run's audit chain",
    responses: { 200: json(AuditTrail, "Every event in order; `hash` chains each to the previous one") },
    handler: async (r) => ok(await auditTrail(r.deps, r.principal, r.params.runId)),
  }),
  defineRoute({
    method: "POST",
    path: "/api/runs/{runId}/cancel",
    access: "operator",
    summary: "Cancel a run",
    body: CancelBody,
    responses: { 202: json(CancelAccepted, "The cancel is recorded and the run's execution stopped") },
    errors: { 409: "the run is already terminal" },
    handler: async (r) => ok(await cancelRun(r.deps, r.principal, r.params.runId, r.body.reason), 202),
  }),
  defineRoute({
    method: "POST",
    path: "/api/runs/{runId}/restart",
    access: "operator",
    summary: "Restart an ended run from its failed step, carrying every other node over",
    body: RestartBody,
    responses: {
      202: json(
        RestartAccepted,
        "The new run is queued (trigger.type restart, restartOf set); carried-over tasks show `reusedFrom`",
      ),
    },
    errors: { 400: "a node in `from` is not in the workflow", 409: "the run is still going or succeeded" },
    handler: async (r) => ok(await restartRun(r.deps, r.principal, r.params.runId, r.body), 202),
  }),
  defineRoute({
    method: "POST",
    path: "/api/runs/{runId}/rerun",
    access: "operator",
    summary: "Start a new run with the same definitionHash and parameters",
    responses: { 202: json(RunAccepted, "The new run is queued (trigger.type rerun, rerunOf set)") },
    handler: async (r) => ok(await rerun(r.deps, r.principal, r.params.runId), 202),
  }),
] as const;
