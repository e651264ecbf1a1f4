import type { ExternalHandle, TypedValue } from "../domain/records.ts";
import type { HumanNode, WorkflowNode } from "../domain/workflow.ts";

export type { ExternalHandle };

/** How much of stdout and stderr the task record keeps; the full log is in the blob store. */
export const LOG_HEAD_BYTES = 4096;

/** The nodes an executor runs: every node that is not a person's step or a timer. */
export type ExecutableNode = Exclude<WorkflowNode, HumanNode | { type: "wait" }>;
export type ExecutableType = ExecutableNode["type"];

/** What one attempt of a node runs with, resolved by the engine (env interpolated, secrets decrypted). */
export interface TaskRequest<N extends ExecutableNode = ExecutableNode> {
  node: N;
  orgId: string;
  env: Record<string, string>;
  params: Record<string, unknown>;
  context: Record<string, unknown>;
  secrets: Record<string, string>;
  run: { id: string; nodeId: string; attempt: number; workflow: string };
  timeoutMs: number;
  /** Places the node's declared input files under `inDir` before the task starts. */
  prepareInputs?: (inDir: string) => Promise<void>;
  /** Called now and then while the task runs, with the log so far, when it grew (live logs). */
  onLogProgress?: (log: Buffer) => Promise<void>;
}

/** How an attempt ended, as the executor saw it; the attempt recorder turns it into the task's records. */
export interface TaskOutcome {
  status: "succeeded" | "failed" | "cancelled" | "no_action";
  exitCode: number | null;
  error: { code: string; message: string } | null;
  noActionReason: string | null;
  outputVariables: Record<string, TypedValue>;
  stdoutHead: string;
  stderrHead: string;
  /** Path of the combined local log (lines "o|…" / "e|…"), removed by `cleanup`. */
  logPath: string;
  logBytes: number;
  logSha256: string;
  /** Whether a live copy of the log was published while the task ran (it sits at the attempt's log key). */
  liveCopied: boolean;
  image: string;
  imageHash: string;
  command: string | null;
  codeHash: string | null;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  host: string;
  /** The task's local out/ directory, for the caller to collect files from before cleanup. */
  outDir: string;
  cleanup: () => Promise<void>;
}

/** What `start` returns: the attempt already finished (a process, a Lambda invoke), or it runs on elsewhere. */
export type StartResult = { kind: "finished"; outcome: TaskOutcome } | { kind: "started"; handle: ExternalHandle };

/** Runs the attempts of one kind of node. */
export interface TaskExecutor<N extends ExecutableNode = ExecutableNode> {
  /** Starts an attempt; `signal` aborts it (a cancel, or the process going away) while it runs inside the call. */
  start(request: TaskRequest<N>, signal: AbortSignal): Promise<StartResult>;
  /** Turns what the wake-up of an external attempt brought (its exit, its result) into the attempt's outcome. */
  complete?(handle: ExternalHandle, result: unknown): Promise<TaskOutcome>;
  /** Stops an external attempt (the run was cancelled or it timed out); harmless when it already ended. */
  stop?(handle: ExternalHandle): Promise<void>;
  /** Stops what an in-call attempt left behind when the engine died under it, before the node runs again. */
  recover?(runId: string, nodeId: string): Promise<void>;
  /** The runtime an attempt of `node` would have run in, recorded when it failed before it started. */
  runtimeOf(node: N): Promise<{ image: string; imageHash: string }>;
}

/** The executors of a runtime, by node type: chosen at composition, one per kind of executable node. */
export type TaskExecutors = { [T in ExecutableType]: TaskExecutor<Extract<ExecutableNode, { type: T }>> };

/** Whether a node is run by an executor (not a person's step or a timer). */
export const isExecutable = (node: WorkflowNode): node is ExecutableNode =>
  node.type !== "approval" && node.type !== "input" && node.type !== "wait";

/** The executor of a node, typed by its node type. */
export function executorFor<N extends ExecutableNode>(executors: TaskExecutors, node: N): TaskExecutor<N> {
  return executors[node.type as ExecutableType] as TaskExecutor<N>;
}
