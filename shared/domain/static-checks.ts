import type { ErrorDetail } from "../errors.ts";
import { ValidationError } from "../errors.ts";
import {
  parseDefinition,
  validateDag,
  type WorkflowDefinition,
  WorkflowDefinitionSchema,
  type WorkflowNode,
  zodDetails,
} from "./workflow.ts";

const REFERENCE = /\$\{([a-z]+)\.([A-Za-z0-9_.-]+)\}/g;

/** Strings of a node that the engine interpolates (`${params.x}`, `${context.x}`, `${run.x}`). */
function interpolated(node: WorkflowNode): Array<{ where: string; text: string }> {
  const env = "env" in node && node.env ? node.env : {};
  return Object.entries(env).map(([k, v]) => ({ where: `env.${k}`, text: v }));
}

/** Every node upstream of `id` (what has finished before it starts). */
function ancestors(def: WorkflowDefinition, id: string): WorkflowNode[] {
  const byId = new Map(def.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const stack = [...(byId.get(id)?.needs ?? [])];
  while (stack.length) {
    const next = stack.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(byId.get(next)?.needs ?? []));
  }
  return [...seen].map((n) => byId.get(n)).filter((n): n is WorkflowNode => n !== undefined);
}

/** Context keys a node is known to write, or null when only running it tells (scripts, commands). */
function knownWrites(node: WorkflowNode): string[] | null {
  if (node.type === "input")
    return Object.entries(node.fields)
      .filter(([, f]) => !f.secret)
      .map(([k]) => k);
  if (node.type === "approval" || node.type === "wait") return [];
  return null;
}

/** The problems of references that cannot resolve: undeclared parameters, context keys no upstream node writes. */
function referenceProblems(def: WorkflowDefinition): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const params = new Set(Object.keys(def.parameters ?? {}));
  for (const node of def.nodes) {
    const upstream = ancestors(def, node.id);
    const writes = upstream.map(knownWrites);
    const knowable = writes.every((w) => w !== null);
    const known = new Set(writes.flatMap((w) => w ?? []));
    for (const { where, text } of interpolated(node)) {
      for (const m of text.matchAll(REFERENCE)) {
        const [whole, ns, key = ""] = m;
        const path = `nodes.${node.id}.${where}`;
        if (ns === "params" && !params.has(key))
          problems.push({ path, message: `node '${node.id}': ${whole} names no declared parameter` });
        else if (ns === "context" && knowable && !known.has(key))
          problems.push({ path, message: `node '${node.id}': ${whole} is written by no node upstream of it` });
        else if (ns !== "params" && ns !== "context" && ns !== "run")
          problems.push({
            path,
            message: `node '${node.id}': ${whole} refers to nothing (known: context, params, run)`,
          });
      }
    }
  }
  return problems;
}

/**
 * Every static check of a definition at once: the schema (all issues), then the DAG and the other rules of
 * parseDefinition, then the references the engine would only find at run time. An empty list means it is valid.
 */
export function checkDefinition(input: unknown): ErrorDetail[] {
  const parsed = WorkflowDefinitionSchema.safeParse(input);
  if (!parsed.success) return zodDetails(parsed.error, input);
  const problems: ErrorDetail[] = [];
  const collect = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // The error's message names the node; its first detail says where.
      problems.push({ path: err.details?.[0]?.path ?? "", message: err.message });
    }
  };
  collect(() => validateDag(parsed.data));
  if (!problems.length) collect(() => parseDefinition(input));
  problems.push(...referenceProblems(parsed.data));
  return problems;
}
