import { hashJson } from "../domain/hash.ts";
import type { FileRef, TaskRecord } from "../domain/records.ts";
import type { WorkflowDefinition, WorkflowNode } from "../domain/workflow.ts";
import type { RunState } from "../ports/run-store.ts";

export interface HashDiff {
  name: string;
  run: string | null;
  other: string | null;
}

interface Side {
  match: boolean;
  differs: HashDiff[];
}

export interface TaskComparison {
  nodeId: string;
  match: boolean;
  status: { match: boolean; run: string | null; other: string | null };
  definition: { match: boolean; run: string | null; other: string | null };
  inputs: Side;
  outputs: Side;
  outputVariables: Side;
  /** One sentence per difference, naming it. */
  differences: string[];
}

export interface RunComparison {
  runId: string;
  otherRunId: string;
  identical: boolean;
  definition: { match: boolean; run: string; other: string };
  parameters: Side;
  tasks: TaskComparison[];
  summary: string;
}

function diffMaps(a: Map<string, string>, b: Map<string, string>): Side {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const differs = names
    .filter((n) => a.get(n) !== b.get(n))
    .map((name) => ({ name, run: a.get(name) ?? null, other: b.get(name) ?? null }));
  return { match: differs.length === 0, differs };
}

const fileMap = (refs: FileRef[] | undefined) => new Map((refs ?? []).map((f) => [f.path, f.sha256]));
const valueMap = (vars: Record<string, unknown> | undefined) =>
  new Map(Object.entries(vars ?? {}).map(([k, v]) => [k, hashJson(v)]));

function describe(kind: string, d: HashDiff): string {
  if (d.run === null) return `${kind} '${d.name}' is only in the other run`;
  if (d.other === null) return `${kind} '${d.name}' is only in this run`;
  return `${kind} '${d.name}' differs (${d.run} vs ${d.other})`;
}

function compareTask(
  nodeId: string,
  a: { node?: WorkflowNode; task?: TaskRecord },
  b: { node?: WorkflowNode; task?: TaskRecord },
): TaskComparison {
  const defA = a.node ? hashJson(a.node) : null;
  const defB = b.node ? hashJson(b.node) : null;
  const inputs = diffMaps(fileMap(a.task?.inputs), fileMap(b.task?.inputs));
  const outputs = diffMaps(fileMap(a.task?.outputs), fileMap(b.task?.outputs));
  const outputVariables = diffMaps(valueMap(a.task?.outputVariables), valueMap(b.task?.outputVariables));
  const statusA = a.task?.status ?? (a.node ? "pending" : null);
  const statusB = b.task?.status ?? (b.node ? "pending" : null);
  const differences: string[] = [];
  if (!a.node) differences.push("the node is only in the other run's definition");
  else if (!b.node) differences.push("the node is only in this run's definition");
  else if (defA !== defB) differences.push(`the node's definition differs (${defA} vs ${defB})`);
  if (statusA !== statusB) differences.push(`status differs (${statusA} vs ${statusB})`);
  for (const d of inputs.differs) differences.push(describe("input file", d));
  for (const d of outputs.differs) differences.push(describe("output file", d));
  for (const d of outputVariables.differs) differences.push(describe("output variable", d));
  return {
    nodeId,
    match: differences.length === 0,
    status: { match: statusA === statusB, run: statusA, other: statusB },
    definition: { match: defA !== null && defA === defB, run: defA, other: defB },
    inputs,
    outputs,
    outputVariables,
    differences,
  };
}

/**
 * Compares two runs task by task: whether each node's definition, input files, output files and output variables
 * match by hash, naming every difference. Two runs of a deterministic workflow pinned by hash compare identical.
 */
export function compareRuns(
  a: { state: RunState; definition: WorkflowDefinition },
  b: { state: RunState; definition: WorkflowDefinition },
): RunComparison {
  const ids = [...a.definition.nodes.map((n) => n.id)];
  for (const n of b.definition.nodes) if (!ids.includes(n.id)) ids.push(n.id);
  const tasks = ids.map((id) =>
    compareTask(
      id,
      { node: a.definition.nodes.find((n) => n.id === id), task: a.state.tasks.get(id) },
      { node: b.definition.nodes.find((n) => n.id === id), task: b.state.tasks.get(id) },
    ),
  );
  const parameters = diffMaps(valueMap(a.state.run.parameters), valueMap(b.state.run.parameters));
  const defMatch = a.state.run.workflow.definitionHash === b.state.run.workflow.definitionHash;
  const differing = tasks.filter((t) => !t.match).length;
  const identical = defMatch && parameters.match && differing === 0;
  const parts: string[] = [];
  if (!defMatch) parts.push("definitions differ");
  if (!parameters.match) parts.push(`parameters differ (${parameters.differs.map((d) => d.name).join(", ")})`);
  if (differing) parts.push(`${differing} of ${tasks.length} tasks differ`);
  return {
    runId: a.state.run.runId,
    otherRunId: b.state.run.runId,
    identical,
    definition: {
      match: defMatch,
      run: a.state.run.workflow.definitionHash,
      other: b.state.run.workflow.definitionHash,
    },
    parameters,
    tasks,
    summary: identical ? `identical: all ${tasks.length} tasks match by hash` : parts.join("; "),
  };
}
