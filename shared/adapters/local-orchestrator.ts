import type { Orchestrator } from "../ports/orchestrator.ts";
import type { LocalStateMachine } from "./local-step-functions.ts";

/** The run Orchestrator embedded: executions of the run state machine in the local interpreter. */
export class LocalOrchestrator implements Orchestrator {
  /** Every local state machine whose tokens this orchestrator can complete (runs, job runs). */
  private readonly tokenMachines: LocalStateMachine[];

  constructor(
    readonly runs: LocalStateMachine,
    others: LocalStateMachine[] = [],
  ) {
    this.tokenMachines = [runs, ...others];
  }

  /** Adds a machine (the job-run machine) whose task tokens sendTaskSuccess should also settle. */
  addMachine(machine: LocalStateMachine): void {
    this.tokenMachines.push(machine);
  }

  async startRun(orgId: string, runId: string): Promise<void> {
    this.runs.start(runId, { runId, orgId });
  }

  async stopRun(_orgId: string, runId: string): Promise<void> {
    this.runs.stop(runId);
  }

  async sendTaskSuccess(token: string, output: Record<string, unknown>): Promise<boolean> {
    return this.tokenMachines.some((m) => m.sendTaskSuccess(token, output));
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<boolean> {
    return this.tokenMachines.some((m) => m.sendTaskFailure(token, error, cause));
  }

  shutdown(): void {
    for (const m of this.tokenMachines) m.shutdown();
  }
}
