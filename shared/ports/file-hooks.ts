import type { AttemptRecord, RunRecord } from "../domain/records.ts";
import type { WorkflowNode } from "../domain/workflow.ts";
import type { RunState } from "./run-store.ts";
import type { TaskOutcome } from "./task-executor.ts";

/** Hooks the evidence layer plugs in: collect out/ files, place inputs in in/. */
export interface FileHooks {
  prepareInputs?(state: RunState, node: WorkflowNode, inDir: string): Promise<void>;
  /** `secrets` are the run's secret values: a file holding one must not be stored (SecretInOutputError). */
  collectOutputs?(
    state: RunState,
    node: WorkflowNode,
    outcome: TaskOutcome,
    secrets: Record<string, string>,
  ): Promise<AttemptRecord["outputs"]>;
  /** Input files placed for the attempt, as recorded evidence. */
  inputsOf?(state: RunState, node: WorkflowNode): AttemptRecord["inputs"];
  /** The evidence root of a run as it ends (`terminal` is its terminal record), stored by that same write. */
  rootOf?(state: RunState, terminal: RunRecord): string;
}
