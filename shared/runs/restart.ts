import type { Deps } from "../deps.ts";
import { GENESIS_HASH } from "../domain/audit.ts";
import { nowIso } from "../domain/clock.ts";
import { hashJson } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import type { Principal, RunRecord, TaskRecord } from "../domain/records.ts";
import { resolveParameters, type WorkflowDefinition, type WorkflowNode } from "../domain/workflow.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import type { RunState, WorkflowVersion } from "../ports/run-store.ts";
import { notifyRunChange, RunSession } from "../run-session.ts";
import { startOrQueue } from "./concurrency.ts";
import { definitionOf, loadRunOr404, queuedRunRecord } from "./runs.ts";

export interface RestartRequest {
  from?: string[];
  definition?: "same" | "latest";
}

/** What a restart does with each node of the new run's definition. */
export interface RestartPlan {
  /** Nodes that run again, in definition order. */
  rerun: string[];
  /** Nodes carried over from the old run, in definition order. */
  reused: string[];
  /** Why each re-run node was chosen (beyond being downstream of another). */
  reasons: Record<string, string>;
}

const hasSecretField = (n: WorkflowNode): boolean =>
  n.type === "input" && Object.values(n.fields).some((f) => f.secret === true);

/**
 * Which nodes run again: the ones asked for (default: every node that did not succeed), every node that did not
 * succeed anyway, secret inputs (their values were deleted when the run ended), with `latest` every node whose own
 * definition changed, and everything downstream of those. Pure, so the API and tests agree on it.
 */
export function planRestart(
  oldDef: WorkflowDefinition,
  oldTasks: ReadonlyMap<string, TaskRecord>,
  newDef: WorkflowDefinition,
  from: string[] | undefined,
): RestartPlan {
  const reasons: Record<string, string> = {};
  const oldNodes = new Map(oldDef.nodes.map((n) => [n.id, n]));
  for (const id of from ?? []) reasons[id] = "asked";
  for (const n of newDef.nodes) {
    const task = oldTasks.get(n.id);
    const before = oldNodes.get(n.id);
    if (reasons[n.id]) continue;
    if (!before) reasons[n.id] = "new node";
    else if (hashJson(before) !== hashJson(n)) reasons[n.id] = "definition changed";
    else if (task?.status !== "succeeded") reasons[n.id] = task ? task.status : "not started";
    else if (hasSecretField(n)) reasons[n.id] = "secret input (its values are not kept after a run ends)";
  }
  const rerun = new Set(Object.keys(reasons));
  // Downstream closure, in definition order until nothing changes (definitions are small DAGs).
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of newDef.nodes)
      if (!rerun.has(n.id) && (n.needs ?? []).some((d) => rerun.has(d))) {
        rerun.add(n.id);
        changed = true;
      }
  }
  return {
    rerun: newDef.nodes.filter((n) => rerun.has(n.id)).map((n) => n.id),
    reused: newDef.nodes.filter((n) => !rerun.has(n.id)).map((n) => n.id),
    reasons,
  };
}

async function targetVersion(deps: Deps, old: RunRecord, which: "same" | "latest"): Promise<WorkflowVersion> {
  const wf =
    which === "latest"
      ? await deps.repos.workflows.get(old.orgId, old.workflow.name)
      : await deps.repos.workflows.getByHash(old.orgId, old.workflow.definitionHash);
  if (!wf) throw new NotFoundError(`workflow '${old.workflow.name}' not found`);
  return wf;
}

/**
 * Restarts an ended, unsuccessful run as a new run: the planned nodes run again, every other node is carried over
 * (its task succeeded with the original evidence and `reusedFrom`), written before the execution starts so that the
 * engine simply finds them done. The audit trail opens with `run.restarted`, naming the old run and its root.
 */
export async function restartRun(deps: Deps, p: Principal, runId: string, req: RestartRequest) {
  const old = await loadRunOr404(deps, p, runId);
  const status = old.run.status;
  if (status === "succeeded" || !["failed", "cancelled", "no_action"].includes(status))
    throw new ConflictError(`run is ${status}; only a failed, cancelled or no-action run can be restarted`);
  const oldDef = await definitionOf(deps, old.run);
  const which = req.definition ?? "same";
  const wf = await targetVersion(deps, old.run, which);
  const unknown = (req.from ?? []).filter((id) => !wf.definition.nodes.some((n) => n.id === id));
  if (unknown.length)
    throw new ValidationError(`from: unknown node ${unknown.map((u) => `'${u}'`).join(", ")}`, [
      { path: "from", message: `not a node of the workflow: ${unknown.join(", ")}` },
    ]);
  const parameters = resolveParameters(wf.definition, old.run.parameters);
  const plan = planRestart(oldDef, old.tasks, wf.definition, req.from?.length ? req.from : undefined);

  const at = nowIso(deps.clock);
  const trigger = { type: "restart" as const, userId: p.userId, restartOf: runId };
  const run: RunRecord = {
    ...queuedRunRecord(deps, p, wf, { runId: newId("run", deps.clock.nowMs()), trigger, parameters, at }),
    restartOf: runId,
  };
  const state: RunState = { run, tasks: new Map(), head: { seq: 0, hash: GENESIS_HASH } };
  await deps.store.commit(
    state,
    {
      target: { kind: "run" },
      event: {
        type: "run.restarted",
        from: null,
        to: "queued",
        actor: p.userId,
        detail: {
          trigger,
          restartOf: { runId, status, root: old.run.root ?? null, definitionHash: old.run.workflow.definitionHash },
          definition: which,
          rerun: plan.rerun,
          reused: plan.reused,
          reasons: plan.reasons,
        },
      },
      next: run,
    },
    at,
  );
  await carryOver(deps, state, old, plan.reused, p.userId);
  await notifyRunChange(deps, state.run, null);
  try {
    await startOrQueue(deps, state, wf.definition);
  } catch (err) {
    await new RunSession(deps, state).setRunStatus("failed", {
      error: { code: "start_failed", message: "the run's execution could not be started" },
    });
    throw err;
  }
  return { runId: run.runId, restartOf: runId, status: "queued" as const, rerun: plan.rerun, reused: plan.reused };
}

/**
 * Writes each carried-over task, in the order the old run completed them (so context writes fold the same way).
 * The record is the original's evidence; files stay where the original stored them, found through `reusedFrom`.
 */
async function carryOver(deps: Deps, state: RunState, old: RunState, reused: string[], actor: string) {
  const tasks = reused
    .map((id) => old.tasks.get(id))
    .filter((t): t is TaskRecord => t !== undefined)
    .sort((a, b) => (a.contextSeq ?? 0) - (b.contextSeq ?? 0));
  for (const original of tasks) {
    // A task the old run had itself carried over points at the run that really ran it.
    const reusedFrom = original.reusedFrom ?? { runId: old.run.runId, attempt: original.attempt };
    const next: TaskRecord = { ...original, reusedFrom, contextSeq: state.head.seq + 1 };
    await deps.store.commit(
      state,
      {
        target: { kind: "task", nodeId: original.nodeId },
        event: {
          type: "task.reused",
          from: "pending",
          to: "succeeded",
          actor,
          detail: {
            nodeId: original.nodeId,
            reusedFrom,
            fromRun: old.run.runId,
            // The original record as the old run's sealed manifest holds it: verify checks the copy against it.
            originalHash: hashJson(JSON.parse(JSON.stringify(original))),
          },
        },
        next,
      },
      nowIso(deps.clock),
    );
  }
}
