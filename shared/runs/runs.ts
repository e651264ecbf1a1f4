import { archiveMarker } from "../archive/archive.ts";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { HASH_PATTERN } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import {
  isTerminalRun,
  type Principal,
  type RunRecord,
  type RunStatus,
  type TaskRecord,
  type Trigger,
} from "../domain/records.ts";
import { durationBetween, pendingTask } from "../domain/task-records.ts";
import { resolveParameters, type WorkflowDefinition } from "../domain/workflow.ts";
import { stopExternalAttempts } from "../engine/complete-task.ts";
import { chooseLane } from "../engine/lane.ts";
import { deriveContext } from "../engine/run-context.ts";
import { logKey } from "../engine/storage-keys.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { createOnce } from "../kernel/idempotency.ts";
import type { PageRequest, RunFilter, RunState, WorkflowVersion } from "../ports/run-store.ts";
import { isPurged } from "../retention/retention.ts";
import { finishRun, notifyRunChange, RunSession } from "../run-session.ts";
import { startOrQueue } from "./concurrency.ts";

export interface TriggerRequest {
  workflow?: string;
  definitionHash?: string;
  parameters?: unknown;
  idempotencyKey?: string;
  trigger: Trigger;
  jobRunId?: string | null;
  rerunOf?: string | null;
}

async function resolveVersion(
  deps: Deps,
  orgId: string,
  req: { workflow?: string; definitionHash?: string },
): Promise<WorkflowVersion> {
  if (req.definitionHash) {
    if (!HASH_PATTERN.test(req.definitionHash)) throw new ValidationError("definitionHash must be sha256:<64 hex>");
    const wf = await deps.repos.workflows.getByHash(orgId, req.definitionHash);
    if (!wf || (req.workflow && wf.name !== req.workflow))
      throw new NotFoundError(`no workflow definition with hash ${req.definitionHash}`);
    return wf;
  }
  if (!req.workflow) throw new ValidationError("workflow is required", [{ path: "workflow", message: "required" }]);
  const wf = await deps.repos.workflows.get(orgId, req.workflow);
  // An archived workflow runs only pinned by its definition hash.
  if (!wf || (await archiveMarker(deps, orgId, "workflow", req.workflow)))
    throw new NotFoundError(`workflow '${req.workflow}' not found`);
  return wf;
}

/** Validates parameters, records a queued run and starts its execution; the same idempotency key returns the same run. */
export async function triggerRun(deps: Deps, p: Principal, req: TriggerRequest) {
  const wf = await resolveVersion(deps, p.orgId, req);
  const parameters = resolveParameters(wf.definition, req.parameters);
  const runId = newId("run", deps.clock.nowMs());
  return createOnce(deps, {
    orgId: p.orgId,
    scope: `trigger:${wf.name}`,
    key: req.idempotencyKey,
    id: runId,
    load: async (id) => {
      const state = await deps.store.loadRun(p.orgId, id);
      return state ? acceptedView(state.run) : null;
    },
    create: () => createRun(deps, p, req, wf, runId, parameters),
  });
}

/**
 * A new run's record as every way of starting one writes it first: queued, nothing run, nothing sealed, in the
 * lane its definition allows (a restart too).
 */
export function queuedRunRecord(
  deps: Deps,
  p: Principal,
  wf: WorkflowVersion,
  v: { runId: string; trigger: RunRecord["trigger"]; parameters: RunRecord["parameters"]; at: string },
): RunRecord {
  const { at } = v;
  return {
    runId: v.runId,
    orgId: p.orgId,
    workflow: { name: wf.name, version: wf.version, definitionHash: wf.definitionHash },
    engineVersion: deps.settings.engineVersion,
    status: "queued",
    trigger: v.trigger,
    createdBy: p.userId,
    jobRunId: null,
    rerunOf: null,
    parameters: v.parameters,
    createdAt: at,
    startedAt: null,
    updatedAt: at,
    completedAt: null,
    error: null,
    noActionReason: null,
    cancelRequest: null,
    root: null,
    lane: chooseLane(wf.definition),
  };
}

async function createRun(
  deps: Deps,
  p: Principal,
  req: TriggerRequest,
  wf: WorkflowVersion,
  runId: string,
  parameters: RunRecord["parameters"],
) {
  const run: RunRecord = {
    ...queuedRunRecord(deps, p, wf, { runId, trigger: req.trigger, parameters, at: nowIso(deps.clock) }),
    jobRunId: req.jobRunId ?? null,
    rerunOf: req.rerunOf ?? null,
  };
  const state = await deps.store.createRun(run, p.userId);
  await notifyRunChange(deps, run, null);
  try {
    await startOrQueue(deps, state, wf.definition);
  } catch (err) {
    const session = new RunSession(deps, state);
    await session.setRunStatus("failed", {
      error: { code: "start_failed", message: "the run's execution could not be started" },
    });
    throw err;
  }
  return acceptedView(run);
}

const acceptedView = (run: RunRecord) => ({ runId: run.runId, status: "queued" as const, workflow: run.workflow });

export async function loadRunOr404(deps: Deps, p: Principal, runId: string): Promise<RunState> {
  const state = /^run_[0-9A-Z]{26}$/.test(runId) ? await deps.store.loadRun(p.orgId, runId) : null;
  if (!state) throw new NotFoundError(`run '${runId}' not found`);
  return state;
}

/** Node ids now running or waiting, comma-joined; null when the run is terminal. */
export function currentStateName(state: RunState): string | null {
  if (isTerminalRun(state.run.status)) return null;
  const active = [...state.tasks.values()].filter((t) =>
    ["running", "awaiting_approval", "awaiting_input"].includes(t.status),
  );
  return active.length ? active.map((t) => t.nodeId).join(",") : null;
}

/** The run as the API shows it. */
export function runView(state: RunState) {
  const { cancelRequest: _c, ...run } = state.run;
  return {
    runId: run.runId,
    orgId: run.orgId,
    workflow: run.workflow,
    engineVersion: run.engineVersion,
    status: run.status,
    currentStateName: currentStateName(state),
    trigger: run.trigger,
    createdBy: run.createdBy,
    jobRunId: run.jobRunId,
    rerunOf: run.rerunOf,
    restartOf: run.restartOf ?? null,
    // Only a queued run waits for a reason; the record keeps the last one after the run starts.
    queuedReason: run.status === "queued" ? (run.queuedReason ?? null) : null,
    parameters: run.parameters,
    context: deriveContext(state.tasks.values()),
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    updatedAt: run.updatedAt,
    completedAt: run.completedAt,
    error: run.error,
    noActionReason: run.noActionReason,
    cancelReason: cancelReasonOf(state.run),
    cancelledBy: state.run.cancelRequest?.by ?? null,
    root: run.root ?? null,
    lane: run.lane ?? "standard",
  };
}

/** The reason given with the cancel request that ended the run (null when none was given or it was not cancelled). */
const cancelReasonOf = (run: RunRecord): string | null =>
  run.status === "cancelled" || run.cancelRequest ? (run.cancelRequest?.reason ?? null) : null;

/** A run in lists. */
export const runSummary = (run: RunRecord) => ({
  runId: run.runId,
  workflow: run.workflow,
  status: run.status,
  trigger: run.trigger,
  createdBy: run.createdBy,
  jobRunId: run.jobRunId,
  rerunOf: run.rerunOf,
  restartOf: run.restartOf ?? null,
  queuedReason: run.status === "queued" ? (run.queuedReason ?? null) : null,
  createdAt: run.createdAt,
  startedAt: run.startedAt,
  updatedAt: run.updatedAt,
  completedAt: run.completedAt,
  durationMs: run.startedAt && run.completedAt ? durationBetween(run.startedAt, run.completedAt) : null,
  error: run.error,
  noActionReason: run.noActionReason,
});

export async function listRuns(deps: Deps, p: Principal, filter: RunFilter, page: PageRequest) {
  const res = await deps.store.listRuns(p.orgId, filter, page);
  return { items: res.items.map(runSummary), nextCursor: res.nextCursor };
}

/** A task record as the API shows it (tokens and storage keys stay inside). */
export function taskView(t: TaskRecord) {
  // The handle of an external attempt and its retry time are the engine's own bookkeeping, not the contract's.
  const { contextSeq: _c, logKey: _k, logInline: _i, external: _x, retryDueAt: _r, ...rest } = t;
  return {
    ...rest,
    attempts: t.attempts.map(({ logKey: _l, logInline: _li, ...a }) => a),
  };
}

export async function definitionOf(deps: Deps, run: RunRecord): Promise<WorkflowDefinition> {
  const wf = await deps.repos.workflows.getByHash(run.orgId, run.workflow.definitionHash);
  if (!wf) throw new NotFoundError("the run's workflow definition is missing");
  return wf.definition;
}

/** Every node's task in definition order; nodes not started yet are pending. */
export async function listTasks(deps: Deps, state: RunState) {
  const def = await definitionOf(deps, state.run);
  return def.nodes.map((n) => taskView(state.tasks.get(n.id) ?? pendingTask(n)));
}

/** The run's logs as text, each line prefixed with its node id (stderr lines marked with '!'). */
export async function runLogs(deps: Deps, state: RunState, node?: string): Promise<string> {
  const def = await definitionOf(deps, state.run);
  if (node && !def.nodes.some((n) => n.id === node)) throw new NotFoundError(`node '${node}' not found in this run`);
  const lines: string[] = [];
  // Short logs live in the records, which retention keeps: once a run is purged they are not served either.
  const hasInline = [...state.tasks.values()].some((t) => t.attempts?.some((a) => a.logInline !== undefined));
  const purged = hasInline && (await isPurged(deps, state.run.orgId, state.run.runId));
  for (const n of def.nodes) {
    if (node && n.id !== node) continue;
    const task = state.tasks.get(n.id);
    const attempts = [...(task?.attempts ?? [])];
    // A running attempt's log so far (published every few seconds while it runs) is followed live.
    if (task?.status === "running" && !attempts.some((a) => a.attempt === task.attempt)) {
      attempts.push({ ...task, logKey: logKey(state.run.orgId, state.run.runId, n.id, task.attempt) });
    }
    for (const a of attempts) {
      const inline = a.logInline !== undefined && !purged ? a.logInline : null;
      const body = inline ?? (a.logKey ? await deps.blobs.get(a.logKey) : null);
      if (!body) continue;
      const label = a.attempt > 1 ? `${n.id}#${a.attempt}` : n.id;
      for (const line of body.toString("utf8").split("\n")) {
        if (!line) continue;
        lines.push(`${label} ${line.startsWith("e|") ? "!" : "|"} ${line.slice(2)}`);
      }
    }
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/** Cancels a run: records the request, ends the run as cancelled and stops its execution. */
export async function cancelRun(deps: Deps, p: Principal, runId: string, reason: unknown) {
  if (reason !== undefined && reason !== null && typeof reason !== "string")
    throw new ValidationError("reason must be a string");
  const state = await loadRunOr404(deps, p, runId);
  const session = new RunSession(deps, state);
  const at = nowIso(deps.clock);
  await session.apply((s) => {
    if (isTerminalRun(s.run.status)) throw new ConflictError(`run is already ${s.run.status}`);
    return {
      target: { kind: "run" },
      event: {
        type: "cancel.requested",
        from: s.run.status,
        to: s.run.status,
        actor: p.userId,
        detail: { reason: reason ?? null },
      },
      next: {
        ...s.run,
        cancelRequest: { by: p.userId, reason: (reason as string | undefined) ?? null, at },
        updatedAt: at,
      },
    };
  });
  if (!isTerminalRun(session.run.status)) {
    await finishRun(session, "cancelled", { error: null }, p.userId);
  }
  await deps.store.deleteWaitToken(p.orgId, runId);
  await deps.orchestrator.stopRun(p.orgId, runId, `cancelled by ${p.userId}`);
  // Containers and ECS tasks run on outside any engine call: stop them now.
  await stopExternalAttempts(deps, session.state);
  return { runId, status: session.run.status as RunStatus };
}

/** Starts a new run with the same definition hash and parameters. */
export async function rerun(deps: Deps, p: Principal, runId: string) {
  const state = await loadRunOr404(deps, p, runId);
  return triggerRun(deps, p, {
    definitionHash: state.run.workflow.definitionHash,
    parameters: state.run.parameters,
    trigger: { type: "rerun", userId: p.userId },
    rerunOf: runId,
  });
}

export async function auditTrail(deps: Deps, p: Principal, runId: string) {
  await loadRunOr404(deps, p, runId);
  return { items: await deps.store.listAudit(p.orgId, runId) };
}
