import { archiveMarker } from "../archive/archive.ts";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { newId } from "../domain/ids.ts";
import { isTerminalRun, type Page, type Principal, type RunStatus, type Trigger } from "../domain/records.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { createOnce } from "../kernel/idempotency.ts";
import type { PageRequest, WorkflowVersion } from "../ports/run-store.ts";
import { cancelRun } from "../runs/runs.ts";
import {
  isTerminalJobRun,
  JOB_NAME_PATTERN,
  type JobConfigSnapshot,
  JobParametersSchema,
  type JobRunRecord,
  type JobRunStatus,
} from "./job-records.ts";
import { notifyJobRunChange, updateJobRun, withStatus } from "./job-run-engine.ts";
import { assertSize, checkParameters, getJob, parseBody, resolveWorkflows } from "./jobs.ts";

const JOB_RUN_ID = /^jr_[0-9A-HJKMNP-TV-Z]{26}$/;

export interface JobRunRequest {
  parameters?: Record<string, Record<string, unknown>>;
  trigger?: Trigger;
  idempotencyKey?: string;
}

/**
 * Creates a job run (202 pending) and starts its execution. It snapshots the job's configuration, merged
 * with the run's parameters, and the definition hash each workflow resolves to now: the job run executes
 * exactly that, whatever changes later. Parameters are checked against those definitions first (400).
 */
export async function createJobRun(deps: Deps, p: Principal, name: string, req: JobRunRequest) {
  const job = await getJob(deps, p, name);
  if (await archiveMarker(deps, p.orgId, "job", name)) throw new NotFoundError(`job '${name}' not found`);
  const order = job.workflowExecutionOrder;
  const given = req.parameters ?? {};
  const workflows = await resolveWorkflows(deps, p.orgId, order);
  const parameters: Record<string, Record<string, unknown>> = {};
  for (const wf of new Set(order)) {
    const merged = { ...job.parameters[wf], ...given[wf] };
    if (Object.keys(merged).length) parameters[wf] = merged;
  }
  for (const key of Object.keys(given)) if (!order.includes(key)) parameters[key] = given[key] ?? {};
  checkParameters(order, parameters, workflows, true);
  const snapshot: JobConfigSnapshot = {
    name: job.name,
    description: job.description,
    workflowExecutionOrder: order,
    parameters,
    workflows: order.map((wf) => {
      const v = workflows.get(wf) as WorkflowVersion;
      return { name: v.name, version: v.version, definitionHash: v.definitionHash };
    }),
  };
  assertSize(snapshot, "the job run's configuration");
  const jobRunId = newId("jr", deps.clock.nowMs());
  return createOnce(deps, {
    orgId: p.orgId,
    scope: `job:${name}`,
    key: req.idempotencyKey,
    id: jobRunId,
    load: async (id) => {
      const prior = await deps.repos.jobs.getJobRun(p.orgId, id);
      return prior ? { jobRunId: prior.jobRunId, status: prior.status } : null;
    },
    create: () => createJobRunOf(deps, p, req, job.name, snapshot, jobRunId),
  });
}

async function createJobRunOf(
  deps: Deps,
  p: Principal,
  req: JobRunRequest,
  job: string,
  snapshot: JobConfigSnapshot,
  jobRunId: string,
) {
  const at = nowIso(deps.clock);
  const jobRun: JobRunRecord = {
    jobRunId,
    orgId: p.orgId,
    job,
    status: "pending",
    jobConfigJsonSnapshot: snapshot,
    workflowRuns: [],
    trigger: req.trigger ?? { type: "manual", userId: p.userId },
    createdBy: p.userId,
    createdAt: at,
    startedAt: null,
    updatedAt: at,
    completedAt: null,
    error: null,
    cancelRequest: null,
    rev: 0,
  };
  await deps.repos.jobs.createJobRun(jobRun);
  await notifyJobRunChange(deps, jobRun, null);
  try {
    await deps.jobOrchestrator.startJobRun(p.orgId, jobRunId);
  } catch (err) {
    await updateJobRun(deps, p.orgId, jobRunId, (jr) => {
      if (isTerminalJobRun(jr.status)) return null;
      const next = withStatus(jr, "failed", nowIso(deps.clock));
      next.error = { code: "start_failed", message: "the job run's execution could not be started" };
      return next;
    });
    throw err;
  }
  return { jobRunId, status: "pending" as JobRunStatus };
}

/** The job run as the API shows it. */
export const jobRunView = (jr: JobRunRecord) => ({
  jobRunId: jr.jobRunId,
  orgId: jr.orgId,
  job: jr.job,
  status: jr.status,
  jobConfigJsonSnapshot: jr.jobConfigJsonSnapshot,
  workflowRuns: jr.workflowRuns,
  trigger: jr.trigger,
  createdBy: jr.createdBy,
  createdAt: jr.createdAt,
  startedAt: jr.startedAt,
  updatedAt: jr.updatedAt,
  completedAt: jr.completedAt,
  error: jr.error,
});

/** A job run by id, or 404 (also for another org's). */
export async function loadJobRunOr404(deps: Deps, p: Principal, jobRunId: string): Promise<JobRunRecord> {
  const jr = JOB_RUN_ID.test(jobRunId) ? await deps.repos.jobs.getJobRun(p.orgId, jobRunId) : null;
  if (!jr) throw new NotFoundError(`job run '${jobRunId}' not found`);
  return jr;
}

/**
 * One job run, its workflow runs showing their status now: the stored one lags a moment behind a run that is
 * still moving (the run listener writes it after the run's own write), so those few are read live.
 */
export async function getJobRun(deps: Deps, p: Principal, jobRunId: string) {
  const jr = await loadJobRunOr404(deps, p, jobRunId);
  jr.workflowRuns = await Promise.all(
    jr.workflowRuns.map(async (w) => {
      if (!w.runId || (w.status !== "not_started" && isTerminalRun(w.status))) return w;
      const live: RunStatus | null = await deps.store.getRunStatus(p.orgId, w.runId);
      return live ? { ...w, status: live } : w;
    }),
  );
  return jobRunView(jr);
}

/** Job runs newest first, by job and/or status. */
export async function listJobRuns(
  deps: Deps,
  p: Principal,
  filter: { job?: string; status?: JobRunStatus },
  page: PageRequest,
): Promise<Page<ReturnType<typeof jobRunView>>> {
  if (filter.job && !JOB_NAME_PATTERN.test(filter.job)) return { items: [], nextCursor: null };
  if (!(filter.job && filter.status)) {
    const res = await deps.repos.jobs.listJobRuns(p.orgId, filter, page);
    return { items: res.items.map(jobRunView), nextCursor: res.nextCursor };
  }
  // Both: one job's runs, filtered by status. Each query asks only for as many as the page still needs,
  // so every item read is either kept or skipped for good and the last cursor is exact.
  const items: JobRunRecord[] = [];
  let cursor = page.cursor ?? null;
  do {
    const res = await deps.repos.jobs.listJobRuns(
      p.orgId,
      { job: filter.job },
      { limit: page.limit - items.length, cursor },
    );
    items.push(...res.items.filter((jr) => jr.status === filter.status));
    cursor = res.nextCursor;
  } while (cursor && items.length < page.limit);
  return { items: items.map(jobRunView), nextCursor: cursor };
}

/**
 * Cancels a job run: it becomes cancelled (the workflows not started are reported so), its running workflow
 * run is cancelled, and its execution is woken to end; nothing more starts. A terminal job run → 409.
 */
export async function cancelJobRun(deps: Deps, p: Principal, jobRunId: string, reason?: string) {
  await loadJobRunOr404(deps, p, jobRunId);
  const res = await updateJobRun(deps, p.orgId, jobRunId, (jr) => {
    if (isTerminalJobRun(jr.status)) throw new ConflictError(`job run is already ${jr.status}`);
    const at = nowIso(deps.clock);
    const next = withStatus(jr, "cancelled", at);
    next.cancelRequest = { by: p.userId, reason: reason ?? null, at };
    return next;
  });
  if (!res) throw new NotFoundError(`job run '${jobRunId}' not found`);
  for (const w of res.jobRun.workflowRuns) {
    if (!w.runId) continue;
    const status = await deps.store.getRunStatus(p.orgId, w.runId);
    if (!status || isTerminalRun(status)) continue;
    try {
      await cancelRun(deps, p, w.runId, reason ?? `job run ${jobRunId} cancelled`);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err; // it ended meanwhile
    }
  }
  // Wake the execution if it waits (for a run that was already ending); it sees the job run cancelled and ends.
  const wait = await deps.repos.jobs.getWait(p.orgId, jobRunId);
  if (wait) await deps.orchestrator.sendTaskSuccess(wait.token, { next: "done" });
  return { jobRunId, status: res.jobRun.status };
}

/** What another feature asks for when it starts a job run; `parameters` are per workflow: {"wf-a": {...}}. */
export interface StartJobRunRequest {
  orgId: string;
  job: string;
  parameters?: Record<string, unknown>;
  trigger: Trigger;
  createdBy: string;
  idempotencyKey?: string;
}

/** Starts a job run on behalf of another feature (a schedule whose target is a job), as `createdBy`. */
export async function startJobRunFor(deps: Deps, req: StartJobRunRequest) {
  const p: Principal = { orgId: req.orgId, keyId: "area", role: "operator", userId: req.createdBy, platform: false };
  return createJobRun(deps, p, req.job, {
    parameters: parseBody(JobParametersSchema, req.parameters, "parameters"),
    trigger: req.trigger,
    idempotencyKey: req.idempotencyKey,
  });
}
