/**
 * Advance: the effects loop around the planner. It loads the run, asks the planner what to do, makes those
 * changes through the run session, starts attempts on the node type's executor, sleeps until an attempt ends or
 * a timer is due, and finally says what the state machine does next.
 */
import type { Deps } from "../deps.ts";
import { isoMicro } from "../domain/clock.ts";
import { isTerminalRun } from "../domain/records.ts";
import { durationBetween, stripAttempt } from "../domain/task-records.ts";
import type { WorkflowDefinition, WorkflowNode } from "../domain/workflow.ts";
import type { RunState } from "../ports/run-store.ts";
import { type ExecutableNode, executorFor, isExecutable, type TaskOutcome } from "../ports/task-executor.ts";
import { ENGINE_ACTOR, finishRun, RunSession } from "../run-session.ts";
import type { AdvanceOutput } from "../state-machine/run-state-machine.ts";
import { recordAttempt, setupFailure, withoutRetryDue } from "./attempt-recorder.ts";
import { attemptRequest } from "./attempt-request.ts";
import {
  type Action,
  type Ending,
  NO_VERDICT,
  type PlanInput,
  plan,
  planDueTimers,
  planRecovery,
  runsExternally,
  timeoutMsOf,
  type Verdict,
} from "./planner.ts";
import { secretMasker } from "./secret-mask.ts";
import { Wakeup } from "./wakeup.ts";

interface InFlight {
  node: WorkflowNode;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Advances a run as far as it can within the time budget: starts every ready node, runs in-call attempts in
 * parallel, records each transition, and says what the state machine does next.
 */
export async function advanceRun(deps: Deps, ids: { orgId: string; runId: string }): Promise<AdvanceOutput> {
  const loaded = await deps.store.loadRun(ids.orgId, ids.runId);
  if (!loaded) return { ...ids, next: "failed", seq: 0 };
  const session = new RunSession(deps, loaded);
  if (isTerminalRun(session.run.status)) return output(session, session.run.status === "failed" ? "failed" : "done");
  const wf = await deps.repos.workflows.getByHash(ids.orgId, session.run.workflow.definitionHash);
  if (!wf) {
    await finishRun(session, "failed", {
      error: { code: "definition_missing", message: "the run's workflow definition is missing" },
    });
    return output(session, "failed");
  }
  return new EffectsLoop(deps, session, wf.definition).run();
}

/** What Advance returns; `seq` tells AwaitHuman what this call saw, so a decision landing in between is noticed. */
function output(session: RunSession, next: AdvanceOutput["next"], extra: Partial<AdvanceOutput> = {}): AdvanceOutput {
  return { orgId: session.run.orgId, runId: session.run.runId, next, seq: session.state.head.seq, ...extra };
}

class EffectsLoop {
  private readonly startMs: number;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly timers = new Map<string, number>(); // nodeId → due (epoch ms): waits and retry backoffs
  private readonly wakeup = new Wakeup();
  private verdict: Verdict = NO_VERDICT;
  /** Masks the run's secret values, as last read by a task of this call (for engine faults, which carry no secrets). */
  private mask: (text: string) => string = (text) => text;

  constructor(
    private readonly deps: Deps,
    private readonly session: RunSession,
    private readonly def: WorkflowDefinition,
  ) {
    this.startMs = deps.clock.nowMs();
  }

  private now(): number {
    return this.deps.clock.nowMs();
  }

  async run(): Promise<AdvanceOutput> {
    const s = this.session;
    // Task records are rolled forward once per call (and whenever the run record changes): see RunStore.commitAll.
    s.deferRecords = true;
    if (s.run.status === "queued") await s.setRunStatus("running");
    for (const action of planRecovery(this.def, s.state, this.now())) await this.apply(action);
    const stopping = this.deps.stopping;
    const onStop = () => this.wakeup.notify();
    stopping?.addEventListener("abort", onStop);
    try {
      const out = await this.loop();
      await s.writeRecords();
      return out;
    } finally {
      stopping?.removeEventListener("abort", onStop);
    }
  }

  private input(): PlanInput {
    return {
      def: this.def,
      state: this.session.state,
      now: this.now(),
      timers: this.timers,
      inFlight: new Set(this.inFlight.keys()),
      verdict: this.verdict,
      budgetLeftMs: this.deps.settings.advanceBudgetMs - (this.now() - this.startMs),
      maxHumanWaitSeconds: this.deps.settings.maxHumanWaitSeconds,
    };
  }

  private async loop(): Promise<AdvanceOutput> {
    let lastPoll = this.now();
    for (;;) {
      if (this.deps.stopping?.aborted) {
        // The process is going away: stop the children and record nothing, so the next start resumes them.
        for (const f of this.inFlight.values()) f.abort.abort();
        await Promise.all([...this.inFlight.values()].map((f) => f.done));
        return output(this.session, "advance");
      }
      const step = plan(this.input());
      this.verdict = step.verdict;
      if (step.kind === "act") {
        await this.applyAll(step.actions);
        continue;
      }
      if (step.kind === "end") return this.end(step.ending);
      if (step.kind === "handoff") {
        const { next, waitSeconds, humanTimeoutSeconds } = step.handoff;
        if (next === "wait") return output(this.session, "wait", { waitSeconds });
        if (next === "human")
          return output(this.session, "human", { Payload: { humanTimeoutSeconds: humanTimeoutSeconds ?? 1 } });
        return output(this.session, "advance");
      }
      const untilPoll = this.deps.settings.cancelPollMs - (this.now() - lastPoll);
      // While attempts run, the records of ended tasks go out (off the way to the run's end; a failure leaves
      // them waiting for the next write).
      this.session.writeRecords({ settledOnly: true }).catch(() => {});
      await this.wakeup.sleep(Math.min(step.until - this.now(), untilPoll));
      for (const action of planDueTimers(this.input())) {
        this.timers.delete(action.node.id);
        await this.apply(action);
      }
      if (this.now() - lastPoll >= this.deps.settings.cancelPollMs && this.inFlight.size > 0) {
        lastPoll = this.now();
        const status = await this.deps.store.getRunStatus(this.session.run.orgId, this.session.run.runId);
        if (status && isTerminalRun(status)) await this.session.reload();
      }
    }
  }

  /**
   * Makes the changes of one plan step together: asked for at once, they go to the store as one commit (the
   * session batches them), so the starts of every ready node cost one audit item.
   */
  private async applyAll(actions: Action[]): Promise<void> {
    const results = await Promise.allSettled(actions.map((a) => this.apply(a)));
    for (const r of results) if (r.status === "rejected") throw r.reason;
  }

  /** Makes one change the planner asked for. */
  private async apply(action: Action): Promise<void> {
    const s = this.session;
    const at = isoMicro(this.now());
    switch (action.kind) {
      case "time-out-human": {
        const { node, approve, error } = action;
        await s.setTask(
          node,
          "task.timeout",
          (cur) => {
            if (cur.status !== "awaiting_approval" && cur.status !== "awaiting_input") return null;
            const done = { ...cur, status: approve ? ("succeeded" as const) : ("failed" as const), endedAt: at, error };
            done.durationMs = durationBetween(cur.startedAt, at);
            done.contextSeq = approve ? s.state.head.seq + 1 : null;
            return { ...done, attempts: [stripAttempt(done)] };
          },
          ENGINE_ACTOR,
          { onTimeout: node.type === "approval" ? (node.onTimeout ?? "reject") : "fail" },
        );
        return;
      }
      case "time-out-external":
        return this.timeOutExternal(action.node);
      case "start-wait":
        await s.setTask(action.node, "task.transition", (cur) =>
          cur.status === "pending" ? { ...cur, status: "running", attempt: 1, startedAt: at, host: null } : null,
        );
        this.timers.set(action.node.id, action.due);
        return;
      case "await-human":
        await s.setTask(action.node, "task.transition", (cur) =>
          cur.status === "pending"
            ? { ...cur, status: action.status, attempt: 1, startedAt: at, waitingSince: at, decisions: [] }
            : null,
        );
        return;
      case "start-task":
        await s.setTask(action.node, "task.transition", (cur) =>
          cur.status === "pending" ? { ...cur, status: "running", attempt: 1, startedAt: at } : null,
        );
        this.launch(action.node);
        return;
      case "set-run-status":
        await s.setRunStatus(action.to);
        return;
      case "finish-wait":
        await s.setTask(action.node, "task.transition", (cur, st) =>
          cur.status === "running"
            ? {
                ...cur,
                status: "succeeded",
                endedAt: at,
                durationMs: durationBetween(cur.startedAt, at),
                contextSeq: st.head.seq + 1,
              }
            : null,
        );
        return;
      case "retry-task":
        this.launch(action.node); // a retry whose backoff ended
        return;
      case "cancel-task":
        await s.setTask(action.node, "task.transition", (cur) =>
          cur.status === "running" ? { ...cur, status: "cancelled", endedAt: at } : null,
        );
        return;
      case "resume-timer":
        this.timers.set(action.node.id, action.due);
        return;
      case "rerun-interrupted":
        return this.rerunInterrupted(action.node);
    }
  }

  /** Tasks left `running` by a call that died (Lambda timeout, SIGKILL of the local server) start again. */
  private async rerunInterrupted(node: ExecutableNode): Promise<void> {
    await executorFor(this.deps.executors, node).recover?.(this.session.run.runId, node.id);
    await this.session.setTask(node, "task.interrupted", (cur) => {
      if (cur.status !== "running") return null;
      const interrupted = {
        ...stripAttempt(cur),
        status: "interrupted" as const,
        error: { code: "interrupted", message: "the engine stopped while the task ran; it runs again" },
      };
      // The run after an interruption is a new attempt, with its own number (and log key).
      return { ...cur, attempt: cur.attempt + 1, attempts: [...cur.attempts, interrupted] };
    });
    this.launch(node);
  }

  /** An external attempt past its deadline: stop it and record the timeout (a retry, or the task's end). */
  private async timeOutExternal(node: ExecutableNode): Promise<void> {
    const task = this.session.task(node);
    if (!task.external) return;
    const executor = executorFor(this.deps.executors, node);
    await executor.stop?.(task.external);
    const error = { code: "timeout", message: `timed out after ${timeoutMsOf(node) / 1000}s`, final: false };
    // What the stopped attempt left (its logs, its digest) is evidence too; its error is the timeout.
    const left = executor.complete
      ? await executor.complete(task.external, { timedOut: true }).catch(() => null)
      : null;
    const outcome = left
      ? { ...left, status: "failed" as const, error: { code: error.code, message: error.message } }
      : null;
    try {
      this.learn(
        node,
        await recordAttempt(this.session, node, task.attempt || 1, executor, outcome, outcome ? null : error, {}),
      );
    } finally {
      await left?.cleanup();
    }
  }

  private launch(node: ExecutableNode): void {
    const abort = new AbortController();
    const done = this.execute(node, abort.signal)
      .catch((err) => {
        // An engine fault (storage down) fails the node rather than vanishing.
        this.verdict = {
          ...this.verdict,
          failure: this.verdict.failure ?? {
            code: "engine_error",
            message: this.mask((err as Error).message),
            nodeId: node.id,
          },
        };
      })
      .finally(() => {
        // A retry may already be in flight under the same id (its timer fired during cleanup): keep it.
        if (this.inFlight.get(node.id)?.done === done) this.inFlight.delete(node.id);
        this.wakeup.notify();
      });
    this.inFlight.set(node.id, { node, abort, done });
  }

  private async execute(node: ExecutableNode, signal: AbortSignal): Promise<void> {
    const s = this.session;
    const task = s.task(node);
    const attempt = task.attempt || 1;
    const executor = executorFor(this.deps.executors, node);
    let outcome: TaskOutcome | null = null;
    let setupError: ReturnType<typeof setupFailure> | null = null;
    let secrets: Record<string, string> = {};
    try {
      const prepared = await attemptRequest(this.deps, s, node, attempt, this.def);
      secrets = prepared.secrets;
      this.mask = secretMasker(secrets);
      const started = await executor.start(prepared.request, signal);
      if (started.kind === "started") {
        // The attempt runs on outside this call: its handle waits in the record for the wake-up (completeTask).
        const handle = started.handle;
        await s.setTask(node, "task.started", (cur) =>
          cur.status === "running" && cur.attempt === attempt ? { ...withoutRetryDue(cur), external: handle } : null,
        );
        return;
      }
      outcome = started.outcome;
    } catch (err) {
      setupError = setupFailure(err);
    }
    try {
      this.learn(node, await recordAttempt(s, node, attempt, executor, outcome, setupError, secrets));
      // The attempt is recorded: the loop may start what it unblocked while its directory is removed.
      this.wakeup.notify();
    } finally {
      await outcome?.cleanup();
    }
  }

  /** What a recorded attempt means for this call: a retry timer, or what the run's end will say. */
  private learn(node: ExecutableNode, recorded: Awaited<ReturnType<typeof recordAttempt>>): void {
    if (recorded.kind === "skipped") return;
    if (recorded.kind === "retry") {
      this.timers.set(node.id, this.now() + recorded.backoffMs);
      return;
    }
    const v = this.verdict;
    if (recorded.status === "no_action" && !v.noAction)
      this.verdict = { ...v, noAction: recorded.reason ?? "no action" };
    if (recorded.status === "failed" && !v.failure)
      this.verdict = {
        ...v,
        failure: recorded.error ?? { code: "task_failed", message: `'${node.id}' failed`, nodeId: node.id },
      };
    if (recorded.status === "cancelled") this.verdict = { ...this.verdict, cancelled: true };
  }

  /** Stops every attempt still running (the run was cancelled) and records those tasks as cancelled. */
  private async stopAll(): Promise<void> {
    for (const f of this.inFlight.values()) f.abort.abort();
    await Promise.all([...this.inFlight.values()].map((f) => f.done));
    await this.stopExternal(this.session.state);
    const at = isoMicro(this.now());
    for (const node of this.def.nodes) {
      await this.session.setTask(node, "task.transition", (cur) =>
        cur.status === "running" || cur.status === "awaiting_approval" || cur.status === "awaiting_input"
          ? { ...cur, status: "cancelled", endedAt: at, durationMs: durationBetween(cur.startedAt, at) }
          : cur.status === "pending"
            ? { ...cur, status: "skipped" }
            : null,
      );
    }
    this.timers.clear();
  }

  /** Stops the external attempts of a run that ends (their tasks end cancelled with it). */
  private async stopExternal(state: RunState): Promise<void> {
    for (const node of this.def.nodes) {
      const task = state.tasks.get(node.id);
      if (!task?.external || !isExecutable(node)) continue;
      if (runsExternally(task) || task.status === "cancelled")
        await executorFor(this.deps.executors, node).stop?.(task.external);
    }
  }

  private async end(ending: Ending): Promise<AdvanceOutput> {
    const s = this.session;
    if (ending.kind === "stop") {
      await this.stopAll();
      return output(s, s.run.status === "failed" ? "failed" : "done");
    }
    await this.stopExternal(s.state);
    if (ending.status === "failed") {
      await finishRun(s, "failed", { error: ending.error }, ENGINE_ACTOR, this.def);
      return output(s, "failed");
    }
    if (ending.status === "no_action") {
      await finishRun(s, "no_action", { noActionReason: ending.reason }, ENGINE_ACTOR, this.def);
      return output(s, "done");
    }
    await finishRun(s, "succeeded", {}, ENGINE_ACTOR, this.def);
    return output(s, "done");
  }
}
