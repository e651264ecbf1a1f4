import type { TaskRecord, TypedValue } from "../domain/records.ts";

export type ContextEntry = TypedValue & { writtenBy: string };

/** The run context: every completed task's output variables folded in completion order. */
export function deriveContext(tasks: Iterable<TaskRecord>): Record<string, ContextEntry> {
  const done = [...tasks].filter((t) => t.status === "succeeded" && t.contextSeq !== null);
  done.sort((a, b) => (a.contextSeq ?? 0) - (b.contextSeq ?? 0));
  const ctx: Record<string, ContextEntry> = {};
  for (const t of done) {
    for (const [key, v] of Object.entries(t.outputVariables ?? {})) ctx[key] = { ...v, writtenBy: t.nodeId };
  }
  return ctx;
}

/** Plain values of the context, as scripts and templates see them. */
export const plainContext = (ctx: Record<string, ContextEntry>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(ctx).map(([k, v]) => [k, v.value]));

/** The first write of a key fixes its type; returns a message for each output that breaks that rule. */
export function typeConflicts(ctx: Record<string, ContextEntry>, outputs: Record<string, TypedValue>): string[] {
  const problems: string[] = [];
  for (const [key, v] of Object.entries(outputs)) {
    const existing = ctx[key];
    if (existing && existing.type !== v.type) {
      problems.push(
        `context key '${key}' is a ${existing.type} (first written by '${existing.writtenBy}'); this node wrote a ${v.type}`,
      );
    }
  }
  return problems;
}

/** Expands ${context.x}, ${params.x} and ${run.id} in a node's env values; unknown references are errors. */
export function interpolate(
  template: string,
  scope: { context: Record<string, unknown>; params: Record<string, unknown>; run: Record<string, unknown> },
): string {
  return template.replace(/\$\{([a-z]+)\.([A-Za-z0-9_.-]+)\}/g, (whole, ns: string, key: string) => {
    const bag = (scope as Record<string, Record<string, unknown> | undefined>)[ns];
    if (!bag || !(key in bag)) throw new Error(`${whole} refers to nothing (known: context, params, run)`);
    const value = bag[key];
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}
