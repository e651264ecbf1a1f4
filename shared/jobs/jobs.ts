import type { z } from "zod";
import { archivedNames, archiveMarker, filterPages, markArchived, unarchive } from "../archive/archive.ts";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { canonicalJson } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import { isTerminalRun, type Page, type Principal, type RunStatus, type Trigger } from "../domain/records.ts";
import { resolveParameters, type WorkflowDefinition, zodDetails } from "../domain/workflow.ts";
import { ConflictError, type ErrorDetail, NotFoundError, PayloadTooLargeError, ValidationError } from "../errors.ts";
import type { PageRequest, WorkflowVersion } from "../ports/run-store.ts";
import { createOnce } from "../use-cases/idempotency.ts";
import { cancelRun } from "../use-cases/runs.ts";
import {
  isTerminalJobRun,
  JOB_NAME_PATTERN,
  JobBodySchema,
  type JobConfigSnapshot,
  JobParametersSchema,
  type JobRecord,
  type JobRunRecord,
  type JobRunStatus,
} from "./job-records.ts";
import { notifyJobRunChange, updateJobRun, withStatus } from "./job-run-engine.ts";
import {
  createJobRunItem,
  getJobItem,
  getJobRunItem,
  getJobRunWait,
  listJobItems,
  putJobItem,
  queryJobRunItems,
} from "./job-store.ts";

/** A job's configuration is stored whole in every job run; keep it far below DynamoDB's 400 KB item limit. */
const MAX_CONFIG_BYTES = 128 * 1024;
const JOB_RUN_ID = /^jr_[0-9A-HJKMNP-TV-Z]{26}$/;

/** Validates a value against a schema as a 400 naming each bad field (under `prefix` when given). */
export function parseBody<T extends z.ZodTypeAny>(schema: T, value: unknown, prefix?: string): z.infer<T> {
  const res = schema.safeParse(value ?? {});
  if (!res.success) {
    const details = zodDetails(res.error).map((d) =>
      prefix ? { path: d.path ? `${prefix}.${d.path}` : prefix, message: `${prefix}: ${d.message}` } : d,
    );
    throw new ValidationError(details.map((d) => d.message).join("; "), details);
  }
  return res.data;
}

function assertJobName(name: string): void {
  if (!JOB_NAME_PATTERN.test(name))
    throw new ValidationError(`job name '${name}' must be 1-63 lowercase letters, digits or '-'`, [
      { path: "name", message: "1-63 lowercase letters, digits or '-'" },
    ]);
}

function assertSize(value: unknown, what: string): void {
  const bytes = Buffer.byteLength(canonicalJson(value));
  if (bytes > MAX_CONFIG_BYTES)
    throw new PayloadTooLargeError(`${what} is ${bytes} bytes; the limit is ${MAX_CONFIG_BYTES}`);
}

/** The latest version of every workflow of an order, by name; unknown names are reported as 400 details. */
async function resolveWorkflows(deps: Deps, orgId: string, order: string[]): Promise<Map<string, WorkflowVersion>> {
  const found = new Map<string, WorkflowVersion>();
  const details: ErrorDetail[] = [];
  for (const [i, name] of order.entries()) {
    if (found.has(name)) continue;
    const wf = await deps.store.getWorkflow(orgId, name);
    if (wf) found.set(name, wf);
    else details.push({ path: `workflowExecutionOrder.${i}`, message: `unknown workflow '${name}'` });
  }
  if (details.length) throw new ValidationError(details.map((d) => d.message).join("; "), details);
  return found;
}

/**
 * Checks per-workflow parameters against the definitions: keys must name a workflow of the order, values
 * must be parameters the definition declares, of their type. With `complete`, required ones must be there
 * (a job run); without, they may still come when the job is run.
 */
function checkParameters(
  order: string[],
  parameters: Record<string, Record<string, unknown>>,
  workflows: Map<string, WorkflowVersion>,
  complete: boolean,
): void {
  const details: ErrorDetail[] = [];
  for (const key of Object.keys(parameters))
    if (!order.includes(key))
      details.push({ path: `parameters.${key}`, message: `'${key}' is not in workflowExecutionOrder` });
  for (const name of new Set(order)) {
    const def = workflows.get(name)?.definition;
    if (!def) continue;
    const given = parameters[name] ?? {};
    let spec: WorkflowDefinition = def;
    if (!complete) {
      const declared = def.parameters ?? {};
      spec = { ...def, parameters: Object.fromEntries(Object.entries(declared).filter(([k]) => k in given)) };
    }
    try {
      resolveParameters(spec, given);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const d of err.details ?? [{ message: err.message }])
        details.push({
          path: `parameters.${name}${d.path ? d.path.replace(/^parameters/, "") : ""}`,
          message: `workflow '${name}': ${d.message}`,
        });
    }
  }
  if (details.length) throw new ValidationError(details.map((d) => d.message).join("; "), details);
}

/** The public shape of a job. */
export const jobView = (j: JobRecord) => ({
  name: j.name,
  description: j.description,
  workflowExecutionOrder: j.workflowExecutionOrder,
  parameters: j.parameters,
  createdAt: j.createdAt,
  createdBy: j.createdBy,
  updatedAt: j.updatedAt,
  updatedBy: j.updatedBy,
});

/** Creates or replaces a job; `created` tells which. Unknown workflows and bad parameters → 400 naming them. */
export async function putJob(deps: Deps, p: Principal, name: string, body: unknown) {
  assertJobName(name);
  if (body && typeof body === "object" && "name" in body) {
    const { name: inBody, ...rest } = body as Record<string, unknown>;
    if (inBody !== name)
      throw new ValidationError(`the body names job '${String(inBody)}' but the path names '${name}'`, [
        { path: "name", message: "must match the name in the path" },
      ]);
    body = rest;
  }
  const b = parseBody(JobBodySchema, body);
  assertSize(b, "the job");
  const workflows = await resolveWorkflows(deps, p.orgId, b.workflowExecutionOrder);
  checkParameters(b.workflowExecutionOrder, b.parameters ?? {}, workflows, false);
  // PUT of an archived job makes it active again.
  await unarchive(deps.store, p.orgId, "job", name);
  const at = nowIso(deps.clock);
  for (let i = 0; i < 5; i++) {
    const existing = await getJobItem(deps.store, p.orgId, name);
    const job: JobRecord = {
      orgId: p.orgId,
      name,
      description: b.description ?? null,
      workflowExecutionOrder: b.workflowExecutionOrder,
      parameters: b.parameters ?? {},
      createdAt: existing?.createdAt ?? at,
      createdBy: existing?.createdBy ?? p.userId,
      updatedAt: at,
      updatedBy: p.userId,
    };
    try {
      await putJobItem(deps.store, job, !existing);
      return { created: !existing, body: jobView(job) };
    } catch (err) {
      // Two creates raced: the loser updates the winner's job.
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new ConflictError(`job '${name}' kept changing; try again`);
}

/** A job by name, or 404. */
export async function getJob(deps: Deps, p: Principal, name: string): Promise<JobRecord> {
  const job = JOB_NAME_PATTERN.test(name) ? await getJobItem(deps.store, p.orgId, name) : null;
  if (!job) throw new NotFoundError(`job '${name}' not found`);
  return job;
}

/** The org's jobs by name; archived ones only with `archived`. */
export async function listJobs(deps: Deps, p: Principal, page: PageRequest, archived = false) {
  const hidden = await archivedNames(deps.store, p.orgId, "job");
  const res = await filterPages(
    (cursor, limit) => listJobItems(deps.store, p.orgId, { limit, cursor }),
    (j) => hidden.has(j.name) === archived,
    page.limit,
    page.cursor ?? null,
  );
  return { items: res.items.map((j) => ({ ...jobView(j), archived })), nextCursor: res.nextCursor };
}

/** A job with whether it is archived, for GET /api/jobs/{name}. */
export async function showJob(deps: Deps, p: Principal, name: string) {
  const job = await getJob(deps, p, name);
  return { ...jobView(job), archived: (await archiveMarker(deps.store, p.orgId, "job", name)) !== null };
}

/** Archives a job (204): it leaves the default list and cannot be run; its job runs stay readable. */
export async function archiveJob(deps: Deps, p: Principal, name: string): Promise<void> {
  await getJob(deps, p, name);
  await markArchived(deps, p, "job", name);
}

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
  if (await archiveMarker(deps.store, p.orgId, "job", name)) throw new NotFoundError(`job '${name}' not found`);
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
      const prior = await getJobRunItem(deps.store, p.orgId, id);
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
  await createJobRunItem(deps.store, jobRun);
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
  const jr = JOB_RUN_ID.test(jobRunId) ? await getJobRunItem(deps.store, p.orgId, jobRunId) : null;
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
    const res = await queryJobRunItems(deps.store, p.orgId, filter, page);
    return { items: res.items.map(jobRunView), nextCursor: res.nextCursor };
  }
  // Both: one job's runs, filtered by status. Each query asks only for as many as the page still needs,
  // so every item read is either kept or skipped for good and the last cursor is exact.
  const items: JobRunRecord[] = [];
  let cursor = page.cursor ?? null;
  do {
    const res = await queryJobRunItems(
      deps.store,
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
  const wait = await getJobRunWait(deps.store, p.orgId, jobRunId);
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
