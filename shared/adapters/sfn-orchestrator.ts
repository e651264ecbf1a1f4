import {
  ExecutionAlreadyExists,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { Lane } from "../engine/lane.ts";
import type { Orchestrator } from "../ports/orchestrator.ts";

const GONE = new Set(["TaskTimedOut", "InvalidToken", "TaskDoesNotExist", "ExecutionDoesNotExist"]);

/**
 * The Orchestrator on AWS Step Functions: one execution per run, named after the runId, in the state machine of
 * the run's lane (the same ASL deployed as a Standard and an Express machine). Without an Express machine every run
 * takes the Standard one.
 */
export class SfnOrchestrator implements Orchestrator {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly expressStateMachineArn: string | null = null,
  ) {}

  static create(stateMachineArn: string, expressStateMachineArn: string | null = null): SfnOrchestrator {
    return new SfnOrchestrator(new SFNClient({}), stateMachineArn, expressStateMachineArn);
  }

  /** The state machine a run of `lane` executes in. */
  machineArn(lane: Lane): string {
    return lane === "express" && this.expressStateMachineArn ? this.expressStateMachineArn : this.stateMachineArn;
  }

  // Stopping and task tokens concern Standard executions: Express runs hold no token and are not stopped by ARN
  // (the cancel is seen by Advance from the record, within the cancel poll).
  private executionArn(runId: string): string {
    return `${this.stateMachineArn.replace(":stateMachine:", ":execution:")}:${runId}`;
  }

  async startRun(orgId: string, runId: string, lane: Lane): Promise<void> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.machineArn(lane),
          name: runId,
          input: JSON.stringify({ runId, orgId }),
        }),
      );
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
    }
  }

  /** Stops the run's execution and its continuations (`<runId>-c1`, `-c2`…, one per 351 days of waiting). */
  async stopRun(_orgId: string, runId: string, cause: string): Promise<void> {
    for (let n = 0; n < 100; n++) {
      const name = n === 0 ? runId : `${runId}-c${n}`;
      try {
        await this.sfn.send(new StopExecutionCommand({ executionArn: this.executionArn(name), cause }));
      } catch (err) {
        const gone = (err as { name?: string }).name ?? "";
        if (n > 0 && gone === "ExecutionDoesNotExist") return;
        if (!GONE.has(gone)) throw err;
      }
    }
  }

  async sendTaskSuccess(token: string, output: Record<string, unknown>): Promise<boolean> {
    try {
      await this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
      return true;
    } catch (err) {
      if (GONE.has((err as { name?: string }).name ?? "")) return false;
      throw err;
    }
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<boolean> {
    try {
      await this.sfn.send(new SendTaskFailureCommand({ taskToken: token, error, cause: cause.slice(0, 32_000) }));
      return true;
    } catch (err) {
      if (GONE.has((err as { name?: string }).name ?? "")) return false;
      throw err;
    }
  }
}
