/**
 * Which Step Functions lane a run executes in, decided once at trigger time from its definition. Express
 * executions cost a request plus their duration instead of $25 per million transitions, but they cannot wait on a
 * task token and end after five minutes; so only runs that never hand a wait to the state machine take them.
 */
import { DEFAULT_TASK_TIMEOUT_SECONDS, type WorkflowDefinition, type WorkflowNode } from "../domain/workflow.ts";
import { INLINE_WAIT_MS } from "./planner.ts";

export const LANES = ["standard", "express"] as const;
export type Lane = (typeof LANES)[number];

/** The longest an Express execution may run (Step Functions' limit); a run still going then is swept. */
export const EXPRESS_MAX_SECONDS = 300;

/**
 * Node types an Express execution can carry: each runs to its end inside an Advance call. A type not listed here
 * (people's steps, containers, and any type added later) keeps the run Standard until someone says otherwise.
 */
const IN_CALL_TYPES: ReadonlySet<string> = new Set(["script", "command", "lambda"]);

/** Why a node needs the Standard lane, or null when an Express execution can carry it. */
export function standardReason(node: WorkflowNode): string | null {
  if (node.type === "wait")
    return node.seconds * 1000 > INLINE_WAIT_MS ? `wait '${node.id}' is longer than an inline wait` : null;
  if (!IN_CALL_TYPES.has(node.type)) return `'${node.id}' is a ${node.type} node`;
  const timeout = "timeoutSeconds" in node ? node.timeoutSeconds : undefined;
  if ((timeout ?? DEFAULT_TASK_TIMEOUT_SECONDS) > EXPRESS_MAX_SECONDS)
    return `'${node.id}' may run longer than an Express execution lasts`;
  return null;
}

/** The lane of a run of `def`: Express when every node runs inside Advance calls, else Standard. */
export function chooseLane(def: WorkflowDefinition): Lane {
  return def.nodes.every((n) => standardReason(n) === null) ? "express" : "standard";
}
