import "../../polyfills.ts";
import { randomUUID } from "node:crypto";
import { ExecutionAbortedError, StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import type { CostMeter } from "../../ports/metrics.ts";

export type LocalHandler = (payload: unknown) => Promise<unknown>;

export interface LocalMachineSpec {
  definition: Record<string, unknown>;
  /** lambda:invoke Task states by state name → the handler the cloud's Lambda runs. */
  tasks: Record<string, LocalHandler>;
  /** lambda:invoke.waitForTaskToken Task states by state name; the payload gets a fresh `token`. */
  waitForToken: Record<string, LocalHandler>;
  /** Called like the cloud's EventBridge rule (or, for Express, its sweep) when an execution ends FAILED, ABORTED or TIMED_OUT. */
  onAbnormalEnd?: (detail: { status: string; name: string; input: string }) => Promise<unknown>;
  /**
   * states:startExecution Task states (continue-as-new) by state name: each starts a new execution of this machine,
   * named by the state's `Name` parameter, with its `Input`.
   */
  startExecution?: string[];
  /** The longest an execution may run before it is stopped as TIMED_OUT (Express's five minutes); none if unset. */
  maxExecutionMs?: number;
}

/** An ASL document as the emulator takes it: checked for its two required fields, not cast. */
const isDefinition = (d: unknown): d is StateMachineDefinition =>
  typeof d === "object" && d !== null && "StartAt" in d && typeof d.StartAt === "string" && "States" in d;

function checkedDefinition(definition: Record<string, unknown>): StateMachineDefinition {
  if (!isDefinition(definition)) throw new Error("a state machine definition needs StartAt and States");
  return definition;
}

interface Execution {
  abort: () => void;
  aborted: boolean;
  timedOut: boolean;
}

/**
 * One state machine run by aws-local-stepfunctions: each lambda:invoke task calls the same handler in
 * process, and .waitForTaskToken is emulated with a promise that SendTaskSuccess settles.
 */
export class LocalStateMachine {
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, Execution>();
  private readonly tokens = new Map<
    string,
    { resolve: (v: unknown) => void; reject: (err: Error) => void; name: string }
  >();
  private stopped = false;

  constructor(
    readonly spec: LocalMachineSpec,
    private readonly meter: CostMeter,
  ) {
    this.machine = new StateMachine(checkedDefinition(spec.definition), {
      validationOptions: { checkArn: false, checkPaths: false },
    });
  }

  /**
   * A twin with its own executions, ended after `maxExecutionMs`, its definition passed through `variant` (the
   * Express twin of the same ASL).
   */
  withTimeLimit(
    maxExecutionMs: number,
    variant: (definition: Record<string, unknown>) => Record<string, unknown> = (d) => d,
  ): LocalStateMachine {
    return new LocalStateMachine(
      { ...this.spec, definition: variant(this.spec.definition), maxExecutionMs },
      this.meter,
    );
  }

  /** Starts an execution named `name`; a name already running is not started twice. */
  start(name: string, input: Record<string, unknown>): void {
    if (this.stopped || this.executions.has(name)) return;
    const overrides: Record<string, (input: unknown) => Promise<never>> = {};
    for (const [state, handler] of Object.entries(this.spec.tasks)) {
      overrides[state] = async (input) => {
        const payload = (input as { Payload?: unknown }).Payload;
        // A lambda:invoke override returns the {StatusCode, Payload} envelope.
        return { StatusCode: 200, Payload: (await handler(payload)) ?? null } as never;
      };
    }
    for (const [state, handler] of Object.entries(this.spec.waitForToken)) {
      overrides[state] = async (input) => {
        const payload = { ...((input as { Payload?: Record<string, unknown> }).Payload ?? {}) };
        const token = randomUUID();
        payload.token = token;
        const settled = new Promise((resolve, reject) => this.tokens.set(token, { resolve, reject, name }));
        // The token may be failed while the handler still runs (a rejection landing as the wait begins): the
        // rejection is taken up by the await below, never left unhandled meanwhile.
        settled.catch(() => {});
        await handler(payload);
        return (await settled) as never;
      };
    }
    for (const state of this.spec.startExecution ?? []) {
      overrides[state] = async (params) => {
        const { Name, Input } = params as { Name: string; Input: Record<string, unknown> };
        if (this.executions.has(Name))
          throw Object.assign(new Error(`execution ${Name} already exists`), {
            name: "StepFunctions.ExecutionAlreadyExistsException",
          });
        // Started once this execution has ended (as Step Functions would let both overlap, briefly).
        setImmediate(() => this.start(Name, Input));
        return { ExecutionArn: `local:${Name}`, StartDate: new Date().toISOString() } as never;
      };
    }
    const exec = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: overrides as never },
      context: {
        Task: { Token: "replaced-per-wait" },
        Execution: { Name: name, Id: `local:${name}` },
        StateMachine: { Id: "local" },
      } as never,
    });
    const entry: Execution = { abort: exec.abort, aborted: false, timedOut: false };
    this.executions.set(name, entry);
    const limit = this.spec.maxExecutionMs;
    const timer =
      limit === undefined
        ? null
        : setTimeout(() => {
            entry.timedOut = true;
            exec.abort();
          }, limit);
    timer?.unref();
    void (async () => {
      for await (const ev of exec.eventLogs) if (ev.type === "StateEntered") this.meter.transitions++;
    })().catch(() => {});
    exec.result
      .catch(async (err: unknown) => {
        if (this.stopped) return;
        const status = entry.timedOut
          ? "TIMED_OUT"
          : err instanceof ExecutionAbortedError || entry.aborted
            ? "ABORTED"
            : "FAILED";
        await this.spec.onAbnormalEnd?.({ status, name, input: JSON.stringify(input) }).catch(() => {});
      })
      .finally(() => {
        if (timer) clearTimeout(timer);
        this.executions.delete(name);
        for (const [t, w] of this.tokens) if (w.name === name) this.tokens.delete(t);
      });
  }

  /** Aborts the named execution, and any continuation of it (`<name>-c<n>`), if going (StopExecution). */
  stop(name: string): void {
    for (const [n, exec] of this.executions) {
      if (n !== name && !(n.startsWith(`${name}-c`) && /^\d+$/.test(n.slice(name.length + 2)))) continue;
      exec.aborted = true;
      exec.abort();
    }
  }

  /** SendTaskSuccess: false when the token is unknown or its execution ended. */
  sendTaskSuccess(token: string, output: unknown): boolean {
    const waiter = this.tokens.get(token);
    if (!waiter) return false;
    this.tokens.delete(token);
    waiter.resolve(output);
    return true;
  }

  /** SendTaskFailure: the waiting task fails with an error of that name, which the state's Catch can match. */
  sendTaskFailure(token: string, error: string, cause: string): boolean {
    const waiter = this.tokens.get(token);
    if (!waiter) return false;
    this.tokens.delete(token);
    const err = new Error(cause);
    err.name = error;
    waiter.reject(err);
    return true;
  }

  isRunning(name: string): boolean {
    return this.executions.has(name);
  }

  get active(): number {
    return this.executions.size;
  }

  /** Stops every execution without reconciling: records stay as they are, to be resumed on the next start. */
  shutdown(): void {
    this.stopped = true;
    for (const e of this.executions.values()) {
      e.aborted = true;
      e.abort();
    }
    this.executions.clear();
  }
}
