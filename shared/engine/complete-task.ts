import type { Deps } from "../deps.ts";
import { isTerminalRun } from "../domain/records.ts";
import { NotFoundError } from "../errors.ts";
import { runSecrets } from "../human-steps/secrets.ts";
import type { RunState } from "../ports/run-store.ts";
import { executorFor, isExecutable } from "../ports/task-executor.ts";
import { RunSession } from "../run-session.ts";
import { recordAttempt } from "./attempt-recorder.ts";

/**
 * Stops the external attempts (containers, ECS tasks) of a run that was ended outside the engine (a cancel): no
 * Advance call follows to stop them. Failures are logged, never thrown: the run has ended either way.
 */
export async function stopExternalAttempts(deps: Deps, state: RunState): Promise<void> {
  const running = [...state.tasks.values()].filter((t) => t.external);
  if (!running.length) return;
  const wf = await deps.repos.workflows.getByHash(state.run.orgId, state.run.workflow.definitionHash);
  for (const task of running) {
    const node = wf?.definition.nodes.find((n) => n.id === task.nodeId);
    if (!node || !isExecutable(node) || !task.external) continue;
    await executorFor(deps.executors, node)
      .stop?.(task.external)
      .catch((err: Error) =>
        deps.logger.error("stopping an external attempt failed", {
          orgId: state.run.orgId,
          runId: state.run.runId,
          nodeId: task.nodeId,
          error: err.message,
        }),
      );
  }
}

/**
 * The wake-up of an attempt that ran externally (an ECS task's STOPPED event, a podman container's exit): the
 * node's executor turns what came back into the attempt's outcome, the recorder writes it (the task ends, or its
 * retry is due at a time the record keeps), and the run's execution resumes from its task-token wait.
 * A late or repeated wake-up (the attempt is no longer the one running) changes nothing.
 */
export async function completeExternalTask(
  deps: Deps,
  ids: { orgId: string; runId: string; nodeId: string; ref: string },
  result: unknown,
): Promise<{ recorded: boolean }> {
  const state = await deps.store.loadRun(ids.orgId, ids.runId);
  if (!state) throw new NotFoundError(`run ${ids.runId} not found`);
  const task = state.tasks.get(ids.nodeId);
  if (isTerminalRun(state.run.status) || task?.status !== "running" || task.external?.ref !== ids.ref)
    return { recorded: false };
  const wf = await deps.repos.workflows.getByHash(ids.orgId, state.run.workflow.definitionHash);
  const node = wf?.definition.nodes.find((n) => n.id === ids.nodeId);
  if (!node || !isExecutable(node)) return { recorded: false };
  const executor = executorFor(deps.executors, node);
  if (!executor.complete) return { recorded: false };
  const outcome = await executor.complete(task.external, result);
  const session = new RunSession(deps, state);
  try {
    await recordAttempt(
      session,
      node,
      task.attempt || 1,
      executor,
      outcome,
      null,
      await runSecrets(deps, ids.orgId, ids.runId),
      {
        backoffInRecord: true,
      },
    );
  } finally {
    await outcome.cleanup();
  }
  const token = await deps.store.getWaitToken(ids.orgId, ids.runId);
  if (token && (await deps.orchestrator.sendTaskSuccess(token, { resumedBy: "task" })))
    await deps.store.deleteWaitToken(ids.orgId, ids.runId);
  return { recorded: true };
}
