import type { z } from "zod";
import { archivedNames, archiveMarker, filterPages, markArchived, unarchive } from "../archive/archive.ts";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { canonicalJson } from "../domain/hash.ts";
import type { Principal } from "../domain/records.ts";
import { resolveParameters, type WorkflowDefinition, zodDetails } from "../domain/workflow.ts";
import { ConflictError, type ErrorDetail, NotFoundError, PayloadTooLargeError, ValidationError } from "../errors.ts";
import { retryOnStale } from "../kernel/optimistic-update.ts";
import type { PageRequest, WorkflowVersion } from "../ports/run-store.ts";
import { JOB_NAME_PATTERN, JobBodySchema, type JobRecord } from "./job-records.ts";

const MAX_CONFIG_BYTES = 128 * 1024;

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

export function assertSize(value: unknown, what: string): void {
  const bytes = Buffer.byteLength(canonicalJson(value));
  if (bytes > MAX_CONFIG_BYTES)
    throw new PayloadTooLargeError(`${what} is ${bytes} bytes; the limit is ${MAX_CONFIG_BYTES}`);
}

/** The latest version of every workflow of an order, by name; unknown names are reported as 400 details. */
export async function resolveWorkflows(
  deps: Deps,
  orgId: string,
  order: string[],
): Promise<Map<string, WorkflowVersion>> {
  const found = new Map<string, WorkflowVersion>();
  const details: ErrorDetail[] = [];
  for (const [i, name] of order.entries()) {
    if (found.has(name)) continue;
    const wf = await deps.repos.workflows.get(orgId, name);
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
export function checkParameters(
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
  await unarchive(deps, p.orgId, "job", name);
  const at = nowIso(deps.clock);
  // Two creates may race: the loser's create is stale, and it updates the winner's job.
  return retryOnStale(
    async () => {
      const existing = await deps.repos.jobs.getJob(p.orgId, name);
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
      await deps.repos.jobs.putJob(job, { create: !existing });
      return { created: !existing, body: jobView(job) };
    },
    {
      attempts: 5,
      exhausted: () => {
        throw new ConflictError(`job '${name}' kept changing; try again`);
      },
    },
  );
}

/** A job by name, or 404. */
export async function getJob(deps: Deps, p: Principal, name: string): Promise<JobRecord> {
  const job = JOB_NAME_PATTERN.test(name) ? await deps.repos.jobs.getJob(p.orgId, name) : null;
  if (!job) throw new NotFoundError(`job '${name}' not found`);
  return job;
}

/** The org's jobs by name; archived ones only with `archived`. */
export async function listJobs(deps: Deps, p: Principal, page: PageRequest, archived = false) {
  const hidden = await archivedNames(deps, p.orgId, "job");
  const res = await filterPages(
    (cursor, limit) => deps.repos.jobs.listJobs(p.orgId, { limit, cursor }),
    (j) => hidden.has(j.name) === archived,
    page.limit,
    page.cursor ?? null,
  );
  return { items: res.items.map((j) => ({ ...jobView(j), archived })), nextCursor: res.nextCursor };
}

/** A job with whether it is archived, for GET /api/jobs/{name}. */
export async function showJob(deps: Deps, p: Principal, name: string) {
  const job = await getJob(deps, p, name);
  return { ...jobView(job), archived: (await archiveMarker(deps, p.orgId, "job", name)) !== null };
}

/** Archives a job (204): it leaves the default list and cannot be run; its job runs stay readable. */
export async function archiveJob(deps: Deps, p: Principal, name: string): Promise<void> {
  await getJob(deps, p, name);
  await markArchived(deps, p, "job", name);
}
