import { EXPRESS_MAX_SECONDS, type Lane } from "../../engine/lane.ts";
import type { Orchestrator } from "../../ports/orchestrator.ts";
import { toExpressRunStateMachine } from "../../state-machine/run-state-machine.ts";
import type { LocalStateMachine } from "./local-step-functions.ts";

/** The run executions of both lanes: whether one is going, stopping it (StopExecution), how many are. */
export interface RunExecutions {
  isRunning(runId: string): boolean;
  stop(runId: string): void;
  readonly active: number;
}

/**
 * The run Orchestrator embedded: executions of the run state machine in the local interpreter, one machine per
 * lane. The Express lane runs the same ASL and handlers, stopped as TIMED_OUT after Express's five minutes; its
 * abnormal end reaches the same reconcile path as a Standard execution's.
 */
export class LocalOrchestrator implements Orchestrator {
  /** Every local state machine whose tokens this orchestrator can complete (runs, job runs). */
  private readonly tokenMachines: LocalStateMachine[];
  /** The Express lane's twin of `standard`. */
  readonly express: LocalStateMachine;
  /** Run executions of both lanes, as tests and the benchmark watch them. */
  readonly runs: RunExecutions;

  constructor(
    readonly standard: LocalStateMachine,
    others: LocalStateMachine[] = [],
    expressMaxMs = EXPRESS_MAX_SECONDS * 1000,
  ) {
    this.express = standard.withTimeLimit(expressMaxMs, toExpressRunStateMachine);
    this.tokenMachines = [standard, this.express, ...others];
    const lanes = [standard, this.express];
    this.runs = {
      isRunning: (runId) => lanes.some((m) => m.isRunning(runId)),
      stop: (runId) => {
        for (const m of lanes) m.stop(runId);
      },
      get active() {
        return lanes.reduce((n, m) => n + m.active, 0);
      },
    };
  }

  /** Adds a machine (the job-run machine) whose task tokens sendTaskSuccess should also settle. */
  addMachine(machine: LocalStateMachine): void {
    this.tokenMachines.push(machine);
  }

  private machine(lane: Lane): LocalStateMachine {
    return lane === "express" ? this.express : this.standard;
  }

  async startRun(orgId: string, runId: string, lane: Lane): Promise<void> {
    this.machine(lane).start(runId, { runId, orgId });
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
