import type { Deps } from "../deps.ts";
import { HASH_PATTERN } from "../domain/hash.ts";
import type { Principal } from "../domain/records.ts";
import { pendingTask } from "../domain/task-records.ts";
import type { WorkflowDefinition, WorkflowNode } from "../domain/workflow.ts";
import { ValidationError } from "../errors.ts";
import type { PageRequest, RunState } from "../ports/run-store.ts";
import { type ProducedFile, producedFiles } from "./run-files.ts";

/** Normalises the `{sha256}` of the route: `sha256:<hex>` or bare hex. */
export function parseContentHash(raw: string): string {
  const value = raw.startsWith("sha256:") ? raw : `sha256:${raw}`;
  if (!HASH_PATTERN.test(value))
    throw new ValidationError("the file hash must be sha256:<64 lowercase hex> (or the 64 hex digits alone)", [
      { path: "sha256", message: "not a sha256 hash" },
    ]);
  return value;
}

/** Every run and task of the caller's org that produced or read the content, newest runs first. */
export async function fileLineage(deps: Deps, p: Principal, rawHash: string, page: PageRequest) {
  const hash = parseContentHash(rawHash);
  const res = await deps.repos.fileUses.listByContent(p.orgId, hash, page);
  return {
    sha256: hash,
    items: res.items.map((i) => ({
      runId: i.runId,
      workflow: i.workflow,
      nodeId: i.nodeId,
      attempt: i.attempt,
      role: i.role,
      path: i.path,
      size: i.size,
      at: i.at,
    })),
    nextCursor: res.nextCursor,
  };
}

export interface LineageNode {
  id: string;
  kind: "parameter" | "task" | "file";
  [field: string]: unknown;
}

export interface LineageGraph {
  runId: string;
  nodes: LineageNode[];
  edges: Array<{ from: string; to: string }>;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The parameters a node's definition reads: `${params.x}` in env values, `params.x` / `params["x"]` in scripts. */
export function parametersReadBy(node: WorkflowNode, names: readonly string[]): string[] {
  const text =
    node.type === "command" || node.type === "script" || node.type === "container"
      ? [...Object.values(node.env ?? {}), node.type === "script" ? node.code : ""].join("\n")
      : node.type === "lambda"
        ? JSON.stringify(node.payload ?? {})
        : "";
  if (!text) return [];
  const named = names.filter((n) =>
    new RegExp(`params\\s*(\\.\\s*${escapeRe(n)}\\b|\\[\\s*["'\`]${escapeRe(n)}["'\`]\\s*\\])`).test(text),
  );
  // A script that takes `params` whole (destructured, passed on) may read any of them.
  if (!named.length && node.type === "script" && /\bparams\b/.test(node.code)) return [...names];
  return named;
}

const fileNodeId = (f: { producedBy: string; path: string }) => `file:${f.producedBy}/${f.path}`;

/**
 * The run's lineage graph: parameters → tasks (that read them) → files (they wrote) → tasks (that read those),
 * plus task → task for `needs`. Ids are stable: `parameter:<name>`, `task:<nodeId>`, `file:<producer>/<path>`.
 */
export function runLineage(state: RunState, def: WorkflowDefinition): LineageGraph {
  const nodes: LineageNode[] = [];
  const edges: Array<{ from: string; to: string }> = [];
  const seenEdges = new Set<string>();
  const edge = (from: string, to: string) => {
    const k = `${from}\n${to}`;
    if (seenEdges.has(k)) return;
    seenEdges.add(k);
    edges.push({ from, to });
  };

  const paramNames = Object.keys(state.run.parameters).sort();
  for (const name of paramNames)
    nodes.push({ id: `parameter:${name}`, kind: "parameter", name, value: state.run.parameters[name] ?? null });

  for (const n of def.nodes) {
    const task = state.tasks.get(n.id) ?? pendingTask(n);
    nodes.push({ id: `task:${n.id}`, kind: "task", nodeId: n.id, type: n.type, status: task.status });
  }

  // One node per file a task wrote; a path written by two tasks is two nodes (both are evidence).
  const files = new Map<string, ProducedFile>();
  for (const f of producedFiles(state.tasks.values())) files.set(fileNodeId(f), f);
  for (const [id, f] of files)
    nodes.push({ id, kind: "file", path: f.path, sha256: f.sha256, size: f.size, producedBy: f.producedBy });

  for (const n of def.nodes) {
    for (const p of parametersReadBy(n, paramNames)) edge(`parameter:${p}`, `task:${n.id}`);
    for (const need of n.needs ?? []) edge(`task:${need}`, `task:${n.id}`);
  }
  for (const [id, f] of files) edge(`task:${f.producedBy}`, id);
  const ordered = [...files.values()];
  for (const n of def.nodes) {
    const task = state.tasks.get(n.id);
    for (const a of task?.attempts ?? []) {
      for (const input of a.inputs ?? []) {
        // The version read is the latest one with that path and content written before the reader started.
        const source = ordered
          .filter((f) => f.path === input.path && f.sha256 === input.sha256)
          .filter((f) => !a.startedAt || !f.endedAt || f.endedAt <= a.startedAt)
          .pop();
        if (source) edge(fileNodeId(source), `task:${n.id}`);
        else {
          const id = `file:?/${input.path}@${input.sha256}`;
          if (!nodes.some((x) => x.id === id))
            nodes.push({
              id,
              kind: "file",
              path: input.path,
              sha256: input.sha256,
              size: input.size,
              producedBy: null,
            });
          edge(id, `task:${n.id}`);
        }
      }
    }
  }
  return { runId: state.run.runId, nodes, edges };
}
