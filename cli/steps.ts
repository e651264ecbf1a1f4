import { type ApiClient, ApiError, type Run, type Task, type WorkflowDefinition } from "./api-client.ts";

/** What a step row needs of a task record (a generated Task has all of it). */
export type StepTask = Pick<Task, "nodeId"> & { type: string; status: string } & Partial<
    Pick<Task, "attempt" | "durationMs" | "startedAt" | "endedAt" | "exitCode">
  >;
/** What a step row needs of a definition: its nodes' ids, types and needs. */
export type StepDefinition = { nodes: ReadonlyArray<{ id: string; type: string; needs?: string[] }> };

import { elapsedMs, type StepRow } from "./format.ts";

/**
 * Merges a run's definition and its task records into step rows in definition order. Nodes without a task
 * record yet are `pending`; a running task's duration is measured up to `nowMs`.
 */
export function stepRows(definition: StepDefinition | null, tasks: readonly StepTask[], nowMs: number): StepRow[] {
  const byId = new Map(tasks.map((t) => [t.nodeId, t]));
  const row = (id: string, type: string, task: StepTask | undefined, needs?: string[]): StepRow => ({
    id,
    type,
    status: task?.status ?? "pending",
    attempt: task?.attempt ?? null,
    durationMs:
      task?.durationMs ??
      (task?.startedAt ? elapsedMs(task.startedAt, task.endedAt, isLive(task.status) ? nowMs : undefined) : null),
    exitCode: task?.exitCode ?? null,
    needs,
  });
  if (!definition) return tasks.map((t) => row(t.nodeId, t.type, t));
  const rows = definition.nodes.map((n) => row(n.id, n.type, byId.get(n.id), n.needs));
  const known = new Set(definition.nodes.map((n) => n.id));
  for (const t of tasks) if (!known.has(t.nodeId)) rows.push(row(t.nodeId, t.type, t));
  return rows;
}

const isLive = (status: string) => status === "running" || status.startsWith("awaiting_");

/**
 * The definition a run was started from. GET /api/workflows/{name} gives the latest version; when the run used
 * an older one, the versions list is searched by hash. Null when it cannot be found (the caller falls back to
 * task order).
 */
export async function findRunDefinition(client: ApiClient, run: Run): Promise<WorkflowDefinition | null> {
  const { name, definitionHash } = run.workflow;
  try {
    const latest = await client.getWorkflow(name);
    if (latest.definitionHash === definitionHash && latest.definition) return latest.definition;
    let cursor: string | null = null;
    // Bounded: a workflow with more versions than this is searched no further.
    for (let page = 0; page < 10; page++) {
      const versions = await client.listWorkflowVersions(name, { limit: 100, cursor });
      const match = versions.items.find((v) => v.definitionHash === definitionHash);
      if (match) return match.definition ?? null;
      cursor = versions.nextCursor;
      if (!cursor) break;
    }
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return null;
    throw err;
  }
  return null;
}

export interface RunView {
  run: Run;
  tasks: Task[];
  definition: WorkflowDefinition | null;
}

/** Loads a run, its tasks and (once, when passed in) its definition. */
export async function loadRunView(
  client: ApiClient,
  runId: string,
  definition?: WorkflowDefinition | null,
): Promise<RunView> {
  const [run, tasks] = await Promise.all([client.getRun(runId), client.getTasks(runId)]);
  return { run, tasks, definition: definition === undefined ? await findRunDefinition(client, run) : definition };
}
