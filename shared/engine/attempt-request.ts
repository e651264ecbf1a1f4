/** What an attempt is started with: the node's env interpolated, the run's secrets, its inputs and live logs. */
import type { Deps } from "../deps.ts";
import { keepsSecrets, type WorkflowDefinition } from "../domain/workflow.ts";
import { runSecrets } from "../human-steps/secrets.ts";
import type { ExecutableNode, TaskRequest } from "../ports/task-executor.ts";
import type { RunSession } from "../run-session.ts";
import { timeoutMsOf } from "./planner.ts";
import { deriveContext, interpolate, plainContext } from "./run-context.ts";
import { logKey } from "./storage-keys.ts";

/** The executor request of attempt `attempt` of `node`, with the secrets it carries (for masking). */
export async function attemptRequest(
  deps: Deps,
  s: RunSession,
  node: ExecutableNode,
  attempt: number,
  def: WorkflowDefinition,
): Promise<{ request: TaskRequest; secrets: Record<string, string> }> {
  const ctx = deriveContext(s.state.tasks.values());
  const params = s.run.parameters;
  const runInfo = { id: s.run.runId, nodeId: node.id, attempt, workflow: s.run.workflow.name };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(("env" in node ? node.env : undefined) ?? {}))
    env[k] = interpolate(v, { context: plainContext(ctx), params, run: runInfo });
  // A definition without secret input fields leaves nothing to read (a read per attempt saved).
  const secrets = keepsSecrets(def) ? await runSecrets(deps, s.run.orgId, s.run.runId) : {};
  const hooks = deps.files;
  const request: TaskRequest = {
    node,
    orgId: s.run.orgId,
    env: { ...env, ...secretEnv(secrets) },
    params,
    context: plainContext(ctx),
    secrets,
    run: runInfo,
    timeoutMs: timeoutMsOf(node),
    onLogProgress: (log) =>
      deps.blobs.put(logKey(s.run.orgId, s.run.runId, node.id, attempt), log, "text/plain; charset=utf-8"),
    prepareInputs: hooks?.prepareInputs
      ? (dir) => hooks.prepareInputs?.(s.state, node, dir) ?? Promise.resolve()
      : undefined,
  };
  return { request, secrets };
}

function secretEnv(secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(secrets))
    env[`STEPWISE_SECRET_${k.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}`] = v;
  return env;
}
