import { ValidationError } from "../../../shared/errors.ts";
import { JobRunBodySchema, JobRunCancelBodySchema, JobRunQuerySchema } from "../../../shared/jobs/job-records.ts";
import {
  archiveJob,
  cancelJobRun,
  createJobRun,
  getJobRun,
  listJobRuns,
  listJobs,
  putJob,
  showJob,
} from "../../../shared/jobs/jobs.ts";
import { ok, pageOf, parseWith, type RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";
import { ArchivedQuery } from "./core-routes.ts";

/** Routes of the jobs area. */
export const routes: Partial<Record<RouteKey, RouteHandler>> = {
  "PUT /api/jobs/{name}": async (r) => {
    if (r.body === undefined) throw new ValidationError("a job definition is required in the body");
    const res = await putJob(r.deps, r.principal, r.path.name as string, r.body);
    return ok(res.body, res.created ? 201 : 200);
  },
  "GET /api/jobs": async (r) => {
    const q = parseWith(ArchivedQuery, r.query);
    return ok(await listJobs(r.deps, r.principal, pageOf(r.query), q.archived === "true"));
  },
  "GET /api/jobs/{name}": async (r) => ok(await showJob(r.deps, r.principal, r.path.name as string)),
  "DELETE /api/jobs/{name}": async (r) => {
    await archiveJob(r.deps, r.principal, r.path.name as string);
    return { status: 204 };
  },
  "POST /api/jobs/{name}/runs": async (r) => {
    const b = parseWith(JobRunBodySchema, r.body);
    return ok(
      await createJobRun(r.deps, r.principal, r.path.name as string, {
        parameters: b.parameters,
        idempotencyKey: r.headers["idempotency-key"],
        trigger: { type: "manual", userId: r.principal.userId },
      }),
      202,
    );
  },
  "GET /api/job-runs": async (r) => {
    const q = parseWith(JobRunQuerySchema, r.query);
    return ok(await listJobRuns(r.deps, r.principal, { job: q.job, status: q.status }, pageOf(r.query)));
  },
  "GET /api/job-runs/{jobRunId}": async (r) => ok(await getJobRun(r.deps, r.principal, r.path.jobRunId as string)),
  "POST /api/job-runs/{jobRunId}/cancel": async (r) => {
    const b = parseWith(JobRunCancelBodySchema, r.body);
    return ok(await cancelJobRun(r.deps, r.principal, r.path.jobRunId as string, b.reason), 202);
  },
};
