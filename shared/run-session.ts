import type { Deps } from "./deps.ts";
import { chainEvent, plainRecord } from "./domain/audit.ts";
import { nowIso } from "./domain/clock.ts";
import { assertRunTransition, assertTaskTransition } from "./domain/lifecycle.ts";
import { isTerminalRun, type RunRecord, type RunStatus, type TaskRecord } from "./domain/records.ts";
import { durationBetween, pendingTask } from "./domain/task-records.ts";
import type { WorkflowDefinition, WorkflowNode } from "./domain/workflow.ts";
import { StaleStateError } from "./errors.ts";
import type { Change, RunState } from "./ports/run-store.ts";

/** The actor of every change the engine makes on its own. */
export const ENGINE_ACTOR = "stepwise:engine";

/**
 * The unit of work on one run: applies audited changes conditionally on the audit chain's head, reloading and
 * recomputing when another writer (a cancel, a decision, a parallel node) moved the chain first. The engine and
 * the use cases both change runs through it.
 */
export class RunSession {
  /**
   * The engine inside an Advance call sets this: task records are written with the commits that change the run or
   * move a task into or out of a human wait, and at writeRecords (the end of the call), not with every commit.
   */
  deferRecords = false;

  constructor(
    readonly deps: Deps,
    public state: RunState,
  ) {}

  /** Writes the records this session's commits deferred (`settledOnly`: see RunStore.writeRecords); in turn. */
  writeRecords(opts: { settledOnly?: boolean } = {}): Promise<void> {
    return this.serial(() => this.deps.store.writeRecords(this.state, opts));
  }

  get run(): RunRecord {
    return this.state.run;
  }

  /** The node's task record, or a fresh pending one. */
  task(node: WorkflowNode): TaskRecord {
    return this.state.tasks.get(node.id) ?? pendingTask(node);
  }

  // Commits of one session run one at a time: parallel nodes finishing together would otherwise race for
  // the same audit sequence number, and a reload could replace state that a commit had just advanced.
  private tail: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }

  /** Re-reads the run (another writer, such as a cancel, may have moved it). */
  reload(): Promise<void> {
    return this.serial(() => this.reloadNow());
  }

  private async reloadNow(): Promise<void> {
    const fresh = await this.deps.store.loadRun(this.run.orgId, this.run.runId);
    if (fresh && fresh.head.seq >= this.state.head.seq) this.state = fresh;
  }

  /**
   * Commits the change `build` makes from the current state; null from `build` means nothing to do. Changes asked
   * for while a commit is under way wait for it, then go together as one commit (each still its own audited event,
   * each built on the state the ones before it leave): parallel nodes finishing together cost one audit item.
   */
  apply(build: (s: RunState) => Change | null): Promise<Change | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ build, resolve, reject });
      if (this.queue.length === 1) void this.serial(() => this.commitQueued());
    });
  }

  private queue: Queued[] = [];

  private async commitQueued(): Promise<void> {
    const batch = this.queue.splice(0);
    try {
      for (let i = 0; i < 20; i++) {
        const at = nowIso(this.deps.clock);
        const built = buildAll(this.state, batch, at);
        const changes = built.filter((b): b is Change => b !== null && !(b instanceof Error));
        if (changes.length === 0) return settle(batch, built);
        try {
          await this.deps.store.commitAll(this.state, changes, at, { deferRecords: this.deferRecords });
          return settle(batch, built);
        } catch (err) {
          if (!(err instanceof StaleStateError)) throw err;
          await this.reloadNow();
        }
      }
      throw new StaleStateError(`run ${this.run.runId} kept changing under the engine`);
    } catch (err) {
      for (const q of batch) q.reject(err);
    }
  }

  /** Moves the run to `to` (no-op when already there or terminal). */
  async setRunStatus(
    to: RunStatus,
    patch: Partial<RunRecord> = {},
    actor = ENGINE_ACTOR,
    detail: Record<string, unknown> = {},
  ) {
    const change = await this.apply((s) => {
      // An accepted cancel (one audited write, the lock) wins over any other end the engine reaches after it.
      const cancelWins = isTerminalRun(to) && to !== "cancelled" && !!s.run.cancelRequest;
      const status: RunStatus = cancelWins ? "cancelled" : to;
      if (s.run.status === status || isTerminalRun(s.run.status)) return null;
      assertRunTransition(s.run.status, status);
      const at = nowIso(this.deps.clock);
      const next: RunRecord = { ...s.run, ...(cancelWins ? {} : patch), status, updatedAt: at };
      if (status === "running" && !next.startedAt) next.startedAt = at;
      if (isTerminalRun(status)) next.completedAt = at;
      // Sealed in the terminal write itself, so an ended run is never seen without its root.
      if (isTerminalRun(status) && this.deps.files?.rootOf) next.root = this.deps.files.rootOf(s, next);
      return {
        target: { kind: "run" },
        event: { type: "run.transition", from: s.run.status, to: status, actor, detail: cancelWins ? {} : detail },
        next,
      };
    });
    if (change) await notifyRunChange(this.deps, this.run, change.event.from as RunStatus);
    return change;
  }

  /** Moves a task, building its next record from the current one. */
  async setTask(
    node: WorkflowNode,
    type: string,
    build: (current: TaskRecord, s: RunState) => TaskRecord | null,
    actor = ENGINE_ACTOR,
    detail: Record<string, unknown> = {},
  ) {
    return this.apply((s) => {
      const current = s.tasks.get(node.id) ?? pendingTask(node);
      const next = build(current, s);
      if (!next) return null;
      if (next.status !== current.status || type === "task.transition")
        assertTaskTransition(node.id, current.status, next.status);
      return {
        target: { kind: "task", nodeId: node.id },
        event: { type, from: current.status, to: next.status, actor, detail: { nodeId: node.id, ...detail } },
        next,
      };
    });
  }
}

interface Queued {
  build: (s: RunState) => Change | null;
  resolve: (c: Change | null) => void;
  reject: (err: unknown) => void;
}

/** Builds each queued change on the state the ones before it leave (a build that throws fails only its caller). */
function buildAll(state: RunState, batch: Queued[], at: string): Array<Change | null | Error> {
  const work: RunState = { run: state.run, tasks: new Map(state.tasks), head: state.head };
  return batch.map((q) => {
    let change: Change | null;
    try {
      change = q.build(work);
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
    if (!change) return null;
    const { target, next } = change;
    if (target.kind === "run") work.run = next as RunRecord;
    else work.tasks.set(target.nodeId, next as TaskRecord);
    const { body, hash } = chainEvent(work.head, change.event, plainRecord(next), at);
    work.head = { seq: body.seq, hash };
    return change;
  });
}

function settle(batch: Queued[], built: Array<Change | null | Error>): void {
  batch.forEach((q, i) => {
    const b = built[i] ?? null;
    if (b instanceof Error) q.reject(b);
    else q.resolve(b);
  });
}

/** Tells every run-event subscriber about a status change; a failing subscriber never fails the run. */
export async function notifyRunChange(deps: Deps, run: RunRecord, from: RunStatus | null): Promise<void> {
  await deps.events.runChanged(run, from);
}

/** Ends a run: nodes never started are skipped, then the run takes its terminal status. */
export async function finishRun(
  session: RunSession,
  status: "succeeded" | "failed" | "no_action" | "cancelled",
  patch: Partial<RunRecord>,
  actor = ENGINE_ACTOR,
  /** The run's definition when the caller has it (saves two reads). */
  known?: WorkflowDefinition,
): Promise<void> {
  const def =
    known ??
    (await session.deps.repos.workflows.getByHash(session.run.orgId, session.run.workflow.definitionHash))?.definition;
  const at = nowIso(session.deps.clock);
  for (const node of def?.nodes ?? []) {
    await session.setTask(
      node,
      "task.transition",
      (cur) => {
        if (cur.status === "pending") return { ...cur, status: "skipped" };
        if (cur.status === "running" || cur.status === "awaiting_approval" || cur.status === "awaiting_input") {
          return { ...cur, status: "cancelled", endedAt: at, durationMs: durationBetween(cur.startedAt, at) };
        }
        return null;
      },
      actor,
    );
  }
  await session.setRunStatus(
    status,
    patch,
    actor,
    patch.error ? { error: patch.error } : patch.noActionReason ? { reason: patch.noActionReason } : {},
  );
}
