import { cancelJobRun, createJobRun, getJobRun, listJobRuns } from "../../../shared/jobs/job-runs.ts";
import { archiveJob, listJobs, putJob, showJob } from "../../../shared/jobs/jobs.ts";
import { defineRoute, json, ok } from "../route.ts";
import {
  JobBody,
  JobList,
  JobPut,
  JobRunBody,
  JobRunCancelBody,
  JobRunList,
  JobRunQuery,
  JobRunRef,
  JobRunView,
  JobShown,
} from "../schemas/job-schemas.ts";
import { ArchivedQuery } from "../schemas/run-schemas.ts";

/** Jobs and job runs. */
export const jobRoutes = [
  defineRoute({
    method: "PUT",
    path: "/api/jobs/{name}",
    access: "operator",
    summary: "Create or replace a job",
    // putJob validates the body itself (the name in it must match the path).
    bodyDoc: JobBody,
    responses: { 201: json(JobPut, "The job was created"), 200: json(JobPut, "The job was replaced") },
    errors: {
      400: "a bad name or body, an unknown workflow in workflowExecutionOrder, or parameters the workflows do not declare",
      409: "the job kept changing concurrently; try again",
      413: "the body is over 1 MiB, or the job's configuration over 128 KiB",
    },
    handler: async (r) => {
      const res = await putJob(r.deps, r.principal, r.params.name, r.json ?? {});
      return ok(res.body, res.created ? 201 : 200);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/jobs",
    access: "viewer",
    summary: "List jobs",
    paged: true,
    query: ArchivedQuery,
    responses: { 200: json(JobList, "The org's active jobs (with `?archived=true`: the archived ones)") },
    handler: async (r) => ok(await listJobs(r.deps, r.principal, r.page, r.query.archived === "true")),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/jobs/{name}",
    access: "operator",
    summary: "Archive a job",
    responses: {
      204: { description: "Archived: hidden from the default list, cannot be run; schedules targeting it stop firing" },
    },
    handler: async (r) => {
      await archiveJob(r.deps, r.principal, r.params.name);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/jobs/{name}",
    access: "viewer",
    summary: "A job",
    responses: { 200: json(JobShown, "The job, with whether it is archived") },
    handler: async (r) => ok(await showJob(r.deps, r.principal, r.params.name)),
  }),
  defineRoute({
    method: "POST",
    path: "/api/jobs/{name}/runs",
    access: "operator",
    summary: "Start a job run",
    body: JobRunBody,
    headers: ["IdempotencyKey"],
    responses: {
      202: json(JobRunRef, "The job run is pending (the same Idempotency-Key: the existing job run and its status)"),
    },
    errors: { 400: "parameters the workflows do not declare, or required ones missing" },
    handler: async (r) =>
      ok(
        await createJobRun(r.deps, r.principal, r.params.name, {
          parameters: r.body.parameters,
          idempotencyKey: r.headers["idempotency-key"],
          trigger: { type: "manual", userId: r.principal.userId },
        }),
        202,
      ),
  }),
  defineRoute({
    method: "GET",
    path: "/api/job-runs",
    access: "viewer",
    summary: "List job runs",
    paged: true,
    query: JobRunQuery,
    responses: { 200: json(JobRunList, "Job runs, newest first") },
    handler: async (r) => ok(await listJobRuns(r.deps, r.principal, r.query, r.page)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/job-runs/{jobRunId}",
    access: "viewer",
    summary: "A job run",
    responses: {
      200: json(
        JobRunView,
        "The job run. Beyond the contract: `orgId`, `trigger`, `startedAt`, `error`; a workflow the job run halted before is listed with status `not_started` and runId null",
      ),
    },
    handler: async (r) => ok(await getJobRun(r.deps, r.principal, r.params.jobRunId)),
  }),
  defineRoute({
    method: "POST",
    path: "/api/job-runs/{jobRunId}/cancel",
    access: "operator",
    summary: "Cancel a job run: its running workflow run and the rest",
    body: JobRunCancelBody,
    responses: { 202: json(JobRunRef, "The job run is cancelled") },
    errors: { 409: "the job run is already terminal" },
    handler: async (r) => ok(await cancelJobRun(r.deps, r.principal, r.params.jobRunId, r.body.reason), 202),
  }),
] as const;
