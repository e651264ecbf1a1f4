import type { Lane } from "../engine/lane.ts";

/** Starts and steers the state-machine execution of each run (Step Functions, or its local interpreter). */
export interface Orchestrator {
  /** Starts the execution named after the run in its lane's state machine; starting it twice is harmless. */
  startRun(orgId: string, runId: string, lane: Lane): Promise<void>;
  /** Stops the run's execution if it is still going. */
  stopRun(orgId: string, runId: string, cause: string): Promise<void>;
  /** Resumes an execution waiting on a task token; false when the token is no longer valid. */
  sendTaskSuccess(token: string, output: Record<string, unknown>): Promise<boolean>;
  /** Fails the waiting task with the named error (the machine's Catch routes on it); false as above. */
  sendTaskFailure(token: string, error: string, cause: string): Promise<boolean>;
}
