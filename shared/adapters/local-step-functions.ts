import "../polyfills.ts";
import { randomUUID } from "node:crypto";
import { ExecutionAbortedError, StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import type { CostMeter } from "../ports/metrics.ts";
import type { Orchestrator } from "../ports/orchestrator.ts";
import { STATE } from "../state-machine/run-state-machine.ts";

type Handler = (payload: unknown) => Promise<unknown>;

export interface LocalHandlers {
  advance: Handler;
  awaitHuman: Handler;
  recordFailure: Handler;
  /** Called like the cloud's EventBridge rule when an execution ends FAILED or ABORTED. */
  reconcile: Handler;
}

interface Execution {
  abort: () => void;
  aborted: boolean;
}

/**
 * The Orchestrator embedded: the same ASL run by aws-local-stepfunctions, with each lambda:invoke task
 * calling the same handler in process, and .waitForTaskToken emulated with a promise per token.
 */
export class LocalStepFunctions implements Orchestrator {
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, Execution>();
  private readonly tokens = new Map<string, { resolve: (v: unknown) => void; runId: string }>();
  private stopped = false;

  constructor(
    definition: Record<string, unknown>,
    private readonly handlers: LocalHandlers,
    private readonly meter: CostMeter,
  ) {
    this.machine = new StateMachine(definition as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: false, checkPaths: false },
    });
  }

  private envelope(handler: Handler) {
    return async (input: unknown) => {
      const payload = (input as { Payload?: unknown }).Payload;
      return { StatusCode: 200, Payload: (await handler(payload)) ?? null } as never;
    };
  }

  async startRun(orgId: string, runId: string): Promise<void> {
    if (this.stopped || this.executions.has(runId)) return;
    const waitForToken = async (input: unknown) => {
      const payload = { ...((input as { Payload?: Record<string, unknown> }).Payload ?? {}) };
      const token = randomUUID();
      payload.token = token;
      const settled = new Promise((resolve) => this.tokens.set(token, { resolve, runId }));
      await this.handlers.awaitHuman(payload);
      return (await settled) as never;
    };
    const exec = this.machine.run(
      { runId, orgId },
      {
        overrides: {
          taskResourceLocalHandlers: {
            [STATE.advance]: this.envelope(this.handlers.advance),
            [STATE.awaitHuman]: waitForToken,
            [STATE.recordFailure]: this.envelope(this.handlers.recordFailure),
          },
        },
        context: { Task: { Token: "replaced-per-wait" } } as never,
      },
    );
    const entry: Execution = { abort: exec.abort, aborted: false };
    this.executions.set(runId, entry);
    void (async () => {
      for await (const ev of exec.eventLogs) if (ev.type === "StateEntered") this.meter.transitions++;
    })().catch(() => {});
    exec.result
      .then(() => undefined)
      .catch(async (err: unknown) => {
        if (this.stopped) return;
        const status = err instanceof ExecutionAbortedError || entry.aborted ? "ABORTED" : "FAILED";
        await this.handlers
          .reconcile({ detail: { status, name: runId, input: JSON.stringify({ runId, orgId }) } })
          .catch(() => {});
      })
      .finally(() => {
        this.executions.delete(runId);
        for (const [t, w] of this.tokens) if (w.runId === runId) this.tokens.delete(t);
      });
  }

  async stopRun(_orgId: string, runId: string): Promise<void> {
    const exec = this.executions.get(runId);
    if (!exec) return;
    exec.aborted = true;
    exec.abort();
  }

  async sendTaskSuccess(token: string, output: Record<string, unknown>): Promise<boolean> {
    const waiter = this.tokens.get(token);
    if (!waiter) return false;
    this.tokens.delete(token);
    waiter.resolve(output);
    return true;
  }

  /** Executions now going (for tests and shutdown). */
  get active(): number {
    return this.executions.size;
  }

  /** Stops every execution without reconciling: the records stay as they are, to be resumed on the next start. */
  shutdown(): void {
    this.stopped = true;
    for (const e of this.executions.values()) {
      e.aborted = true;
      e.abort();
    }
    this.executions.clear();
  }
}
