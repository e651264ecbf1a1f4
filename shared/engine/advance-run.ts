import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { Deps } from "../deps.ts";
import { isoMicro, nowIso, parseIsoMicro } from "../domain/clock.ts";
import { sha256 } from "../domain/hash.ts";
import { assertRunTransition, assertTaskTransition } from "../domain/lifecycle.ts";
import {
  type AttemptRecord,
  isTerminalRun,
  isTerminalTask,
  type RunError,
  type RunRecord,
  type RunStatus,
  type TaskRecord,
} from "../domain/records.ts";
import {
  DEFAULT_TASK_TIMEOUT_SECONDS,
  type HumanNode,
  isHuman,
  type WorkflowDefinition,
  type WorkflowNode,
} from "../domain/workflow.ts";
import { StaleStateError } from "../errors.ts";
import { runSecrets } from "../human-steps/secrets.ts";
import type { Change, RunState } from "../ports/run-store.ts";
import type { AdvanceOutput } from "../state-machine/run-state-machine.ts";
import { putLocalFile } from "./put-local-file.ts";
import { deriveContext, interpolate, plainContext, typeConflicts } from "./run-context.ts";
import { maskOutputVariables, secretMasker } from "./secret-mask.ts";
import { logKey } from "./storage-keys.ts";
import { LOG_HEAD_BYTES, runTask, runtimeImage, stopOrphans, type TaskOutcome } from "./task-runner.ts";

/** Logs up to this size are kept in the attempt record; larger ones go to S3 as their own object. */
const LOG_INLINE_BYTES = 1024;

/** The log as text when it is UTF-8 and still hashes to what the runner recorded; null to store it as an object. */
async function readInlineLog(path: string, expectedSha256: string): Promise<string | null> {
  const bytes = await readFile(path);
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) && sha256(bytes) === expectedSha256 ? text : null;
}

const ENGINE_ACTOR = "stepwise:engine";
/** Below this, a wait node is slept inside the call rather than handed to a Wait state. */
const INLINE_WAIT_MS = 2000;
/** Human waits with no timeout still need one on the Task state: a year. */
const NO_TIMEOUT_SECONDS = 365 * 86400;

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

export const emptyAttempt = (attempt: number): AttemptRecord => ({
  attempt,
  status: "pending",
  image: null,
  imageHash: null,
  command: null,
  codeHash: null,
  inputs: [],
  outputs: [],
  outputVariables: {},
  exitCode: null,
  stdout: "",
  stderr: "",
  logKey: null,
  logSha256: null,
  startedAt: null,
  endedAt: null,
  durationMs: null,
  host: null,
  error: null,
});

/** A fresh pending task record for a node. */
export const pendingTask = (node: WorkflowNode): TaskRecord => ({
  ...emptyAttempt(0),
  nodeId: node.id,
  type: node.type,
  status: "pending",
  attempts: [],
  contextSeq: null,
});

/** Applies changes to one run, reloading and recomputing when another writer moved the chain first. */
export class RunSession {
  constructor(
    readonly deps: Deps,
    public state: RunState,
  ) {}

  get run(): RunRecord {
    return this.state.run;
  }

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

  /** Commits the change `build` makes from the current state; null from `build` means nothing to do. */
  apply(build: (s: RunState) => Change | null): Promise<Change | null> {
    return this.serial(async () => {
      for (let i = 0; i < 20; i++) {
        const change = build(this.state);
        if (!change) return null;
        try {
          await this.deps.store.commit(this.state, change, nowIso(this.deps.clock));
          return change;
        } catch (err) {
          if (!(err instanceof StaleStateError)) throw err;
          await this.reloadNow();
        }
      }
      throw new StaleStateError(`run ${this.run.runId} kept changing under the engine`);
    });
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

/** Tells every run listener about a status change; a failing listener never fails the run. */
export async function notifyRunChange(deps: Deps, run: RunRecord, from: RunStatus | null): Promise<void> {
  for (const listener of deps.runListeners) {
    try {
      await listener(run, from);
    } catch (err) {
      console.error(
        JSON.stringify({ level: "error", msg: "run listener failed", runId: run.runId, error: (err as Error).message }),
      );
    }
  }
}

/** The run status that the waiting human steps imply. */
export function impliedStatus(state: RunState): RunStatus {
  const statuses = [...state.tasks.values()].map((t) => t.status);
  if (statuses.includes("awaiting_approval")) return "awaiting_approval";
  if (statuses.includes("awaiting_input")) return "awaiting_input";
  return "running";
}

/** When a waiting human step times out, in epoch ms, or null without a timeout. */
export function humanDeadline(node: HumanNode, task: TaskRecord): number | null {
  if (!node.timeoutSeconds || !task.waitingSince) return null;
  return parseIsoMicro(task.waitingSince) + node.timeoutSeconds * 1000;
}

interface InFlight {
  node: WorkflowNode;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Advances a run as far as it can within the time budget: starts every ready node, runs commands and
 * scripts in parallel child processes, records each transition, and says what the state machine does next.
 */
export async function advanceRun(deps: Deps, ids: { orgId: string; runId: string }): Promise<AdvanceOutput> {
  const loaded = await deps.store.loadRun(ids.orgId, ids.runId);
  if (!loaded) return { ...ids, next: "failed", seq: 0 };
  const session = new RunSession(deps, loaded);
  // seq tells AwaitHuman what this call saw, so a decision landing in between is noticed.
  const out = (next: AdvanceOutput["next"], extra: Partial<AdvanceOutput> = {}): AdvanceOutput => ({
    orgId: ids.orgId,
    runId: ids.runId,
    next,
    seq: session.state.head.seq,
    ...extra,
  });
  if (isTerminalRun(session.run.status)) return out(session.run.status === "failed" ? "failed" : "done");
  const wf = await deps.store.getWorkflowByHash(ids.orgId, session.run.workflow.definitionHash);
  if (!wf) {
    await finishRun(session, "failed", {
      error: { code: "definition_missing", message: "the run's workflow definition is missing" },
    });
    return out("failed");
  }
  return new Advancer(deps, session, wf.definition).run(out);
}

class Advancer {
  private readonly startMs: number;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly timers = new Map<string, number>(); // nodeId → due (epoch ms): waits and retry backoffs
  private wake: (() => void) | null = null;
  private failure: RunError | null = null;
  private noAction: string | null = null;
  private cancelled = false;
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

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private sleepUntilEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(
        () => {
          this.wake = null;
          resolve();
        },
        Math.max(0, ms),
      );
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  async run(
    out: (next: AdvanceOutput["next"], extra?: Partial<AdvanceOutput>) => AdvanceOutput,
  ): Promise<AdvanceOutput> {
    const s = this.session;
    if (s.run.status === "queued") await s.setRunStatus("running");
    await this.recoverInterrupted();
    const lastPoll = this.now();
    const stopping = this.deps.stopping;
    const onStop = () => this.notify();
    stopping?.addEventListener("abort", onStop);
    try {
      return await this.loop(out, lastPoll);
    } finally {
      stopping?.removeEventListener("abort", onStop);
    }
  }

  private async loop(
    out: (next: AdvanceOutput["next"], extra?: Partial<AdvanceOutput>) => AdvanceOutput,
    startPoll: number,
  ): Promise<AdvanceOutput> {
    const s = this.session;
    let lastPoll = startPoll;
    for (;;) {
      if (this.deps.stopping?.aborted) {
        // The process is going away: stop the children and record nothing, so the next start resumes them.
        for (const f of this.inFlight.values()) f.abort.abort();
        await Promise.all([...this.inFlight.values()].map((f) => f.done));
        return out("advance");
      }
      if (isTerminalRun(s.run.status)) {
        await this.stopAll();
        return out(s.run.status === "failed" ? "failed" : "done");
      }
      await this.applyHumanTimeouts();
      const startedAny = await this.startReady();
      await this.syncRunStatus();
      if (startedAny) continue;
      if ((this.failure || this.noAction || this.cancelled) && this.inFlight.size === 0) return this.conclude(out);

      if (this.inFlight.size === 0 && this.timers.size === 0) {
        const tasks = this.def.nodes.map((n) => s.task(n));
        const waitingHumans = this.def.nodes.filter(
          (n) => isHuman(n) && !isTerminalTask(s.task(n).status) && s.task(n).status !== "pending",
        );
        if (tasks.every((t) => isTerminalTask(t.status))) return this.conclude(out);
        const waitNode = this.nextWaitDue();
        if (waitingHumans.length) {
          // Wait nodes due before the human steps' deadline go first through the Wait state.
          if (waitNode) return out("wait", { waitSeconds: Math.max(1, Math.ceil((waitNode - this.now()) / 1000)) });
          return out("human", {
            Payload: { humanTimeoutSeconds: this.humanTimeoutSeconds(waitingHumans as HumanNode[]) },
          });
        }
        if (waitNode) return out("wait", { waitSeconds: Math.max(1, Math.ceil((waitNode - this.now()) / 1000)) });
        // Ready nodes that do not fit in what is left of this call's budget go to the next call.
        if (this.def.nodes.some((n) => this.ready(n))) return out("advance");
        // Nothing runs, nothing is ready, nothing waits: a need failed without stopping the run.
        this.failure ??= { code: "stuck", message: "no node can run: a dependency did not succeed" };
        return this.conclude(out);
      }

      const nextTimer = Math.min(...this.timers.values(), Number.POSITIVE_INFINITY);
      const untilTimer = nextTimer - this.now();
      const untilPoll = this.deps.settings.cancelPollMs - (this.now() - lastPoll);
      // A long wait with nothing else running is handed to the state machine's Wait state.
      if (this.inFlight.size === 0 && untilTimer > INLINE_WAIT_MS && this.onlyWaitTimers()) {
        return out("wait", { waitSeconds: Math.max(1, Math.ceil(untilTimer / 1000)) });
      }
      await this.sleepUntilEvent(Math.min(untilTimer, untilPoll));
      await this.fireTimers();
      if (this.now() - lastPoll >= this.deps.settings.cancelPollMs && this.inFlight.size > 0) {
        lastPoll = this.now();
        const status = await this.deps.store.getRunStatus(this.session.run.orgId, this.session.run.runId);
        if (status && isTerminalRun(status)) await this.session.reload();
      }
    }
  }

  private budgetLeft(): number {
    return this.deps.settings.advanceBudgetMs - (this.now() - this.startMs);
  }

  private onlyWaitTimers(): boolean {
    return [...this.timers.keys()].every((id) => this.def.nodes.find((n) => n.id === id)?.type === "wait");
  }

  private nextWaitDue(): number | null {
    const dues = [...this.timers.values()];
    return dues.length ? Math.min(...dues) : null;
  }

  private humanTimeoutSeconds(nodes: HumanNode[]): number {
    const deadlines = nodes.map((n) => humanDeadline(n, this.session.task(n))).filter((d): d is number => d !== null);
    const cap = Math.min(NO_TIMEOUT_SECONDS, this.deps.settings.maxHumanWaitSeconds);
    if (!deadlines.length) return cap;
    return Math.min(cap, Math.max(1, Math.ceil((Math.min(...deadlines) - this.now()) / 1000)));
  }

  /** Tasks left `running` by a call that died (Lambda timeout, SIGKILL of the local server) start again. */
  private async recoverInterrupted(): Promise<void> {
    for (const node of this.def.nodes) {
      const task = this.session.task(node);
      if (task.status !== "running") continue;
      if (node.type === "wait") {
        this.timers.set(node.id, parseIsoMicro(task.startedAt ?? isoMicro(this.now())) + node.seconds * 1000);
        continue;
      }
      await stopOrphans(this.deps.settings.workRoot, this.session.run.runId, node.id);
      await this.session.setTask(node, "task.interrupted", (cur) => {
        if (cur.status !== "running") return null;
        const interrupted: AttemptRecord = {
          ...stripAttempt(cur),
          status: "interrupted",
          error: { code: "interrupted", message: "the engine stopped while the task ran; it runs again" },
        };
        // The run after an interruption is a new attempt, with its own number (and log key).
        return { ...cur, attempt: cur.attempt + 1, attempts: [...cur.attempts, interrupted] };
      });
      this.launch(node);
    }
  }

  private ready(node: WorkflowNode): boolean {
    const task = this.session.task(node);
    if (task.status !== "pending") return false;
    return (node.needs ?? []).every((id) => this.session.state.tasks.get(id)?.status === "succeeded");
  }

  private async startReady(): Promise<boolean> {
    if (this.failure || this.noAction || this.cancelled || isTerminalRun(this.session.run.status)) return false;
    let started = false;
    for (const node of this.def.nodes) {
      if (!this.ready(node)) continue;
      if ((node.type === "command" || node.type === "script") && this.budgetLeft() < this.timeoutMs(node)) continue;
      started = true;
      if (node.type === "wait") {
        const at = isoMicro(this.now());
        await this.session.setTask(node, "task.transition", (cur) =>
          cur.status === "pending" ? { ...cur, status: "running", attempt: 1, startedAt: at, host: null } : null,
        );
        this.timers.set(node.id, this.now() + node.seconds * 1000);
      } else if (isHuman(node)) {
        const to = node.type === "approval" ? "awaiting_approval" : "awaiting_input";
        const at = isoMicro(this.now());
        await this.session.setTask(node, "task.transition", (cur) =>
          cur.status === "pending"
            ? { ...cur, status: to, attempt: 1, startedAt: at, waitingSince: at, decisions: [] }
            : null,
        );
      } else {
        await this.session.setTask(node, "task.transition", (cur) =>
          cur.status === "pending" ? { ...cur, status: "running", attempt: 1, startedAt: isoMicro(this.now()) } : null,
        );
        this.launch(node);
      }
    }
    return started;
  }

  /** Keeps the run's status in step with its waiting human steps. */
  private async syncRunStatus(): Promise<void> {
    const s = this.session;
    if (isTerminalRun(s.run.status) || this.failure || this.noAction) return;
    const want = impliedStatus(s.state);
    if (want !== s.run.status) await s.setRunStatus(want);
  }

  private async applyHumanTimeouts(): Promise<void> {
    const s = this.session;
    for (const node of this.def.nodes) {
      if (!isHuman(node)) continue;
      const task = s.task(node);
      if (task.status !== "awaiting_approval" && task.status !== "awaiting_input") {
        if (task.status === "failed" && !this.failure)
          this.failure = task.error ?? { code: "rejected", message: `'${node.id}' did not pass`, nodeId: node.id };
        continue;
      }
      const deadline = humanDeadline(node, task);
      if (deadline === null || deadline > this.now()) continue;
      const approve = node.type === "approval" && node.onTimeout === "approve";
      const at = isoMicro(this.now());
      const error: RunError | null = approve
        ? null
        : {
            code: "human_timeout",
            message: `'${node.id}' was not ${node.type === "approval" ? "approved" : "answered"} within ${node.timeoutSeconds}s`,
            nodeId: node.id,
          };
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
      if (error && !this.failure) this.failure = error;
    }
  }

  private timeoutMs(node: WorkflowNode): number {
    const t = node.type === "command" || node.type === "script" ? node.timeoutSeconds : undefined;
    return (t ?? DEFAULT_TASK_TIMEOUT_SECONDS) * 1000;
  }

  private launch(node: WorkflowNode): void {
    if (node.type !== "command" && node.type !== "script") return;
    const abort = new AbortController();
    const done = this.execute(node, abort.signal)
      .catch((err) => {
        // An engine fault (storage down) fails the node rather than vanishing.
        this.failure ??= { code: "engine_error", message: this.mask((err as Error).message), nodeId: node.id };
      })
      .finally(() => {
        // A retry may already be in flight under the same id (its timer fired during cleanup): keep it.
        if (this.inFlight.get(node.id)?.done === done) this.inFlight.delete(node.id);
        this.notify();
      });
    this.inFlight.set(node.id, { node, abort, done });
  }

  private async execute(node: WorkflowNode & { type: "command" | "script" }, signal: AbortSignal): Promise<void> {
    const s = this.session;
    const task = s.task(node);
    const attempt = task.attempt || 1;
    const ctx = deriveContext(s.state.tasks.values());
    const params = s.run.parameters;
    const runInfo = { id: s.run.runId, nodeId: node.id, attempt, workflow: s.run.workflow.name };
    const hooks = this.deps.files;
    let outcome: TaskOutcome | null = null;
    let setupError: { code: string; message: string } | null = null;
    let secrets: Record<string, string> = {};
    try {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(node.env ?? {}))
        env[k] = interpolate(v, { context: plainContext(ctx), params, run: runInfo });
      secrets = await runSecrets(this.deps, s.run.orgId, s.run.runId);
      this.mask = secretMasker(secrets);
      outcome = await runTask(
        {
          kind: node.type,
          source: node.type === "command" ? node.command : node.code,
          env: { ...env, ...secretEnv(secrets) },
          params,
          context: plainContext(ctx),
          secrets,
          run: runInfo,
          timeoutMs: this.timeoutMs(node),
          onLogProgress: (log) =>
            this.deps.blobs.put(logKey(s.run.orgId, s.run.runId, node.id, attempt), log, "text/plain; charset=utf-8"),
          prepareInputs: hooks?.prepareInputs
            ? (dir) => hooks.prepareInputs?.(s.state, node, dir) ?? Promise.resolve()
            : undefined,
        },
        this.deps.settings.workRoot,
        this.deps.clock,
        signal,
      );
    } catch (err) {
      // Typed failures (an input failing its integrity check) keep their code in the task's error.
      const code = (err as { code?: unknown }).code;
      setupError = { code: typeof code === "string" ? code : "setup_failed", message: (err as Error).message };
    }
    try {
      await this.record(node, attempt, outcome, setupError, secrets);
    } finally {
      await outcome?.cleanup();
    }
  }

  private async record(
    node: WorkflowNode & { type: "command" | "script" },
    attempt: number,
    outcome: TaskOutcome | null,
    setupError: { code: string; message: string } | null,
    secrets: Record<string, string>,
  ): Promise<void> {
    if (this.deps.stopping?.aborted) return;
    const s = this.session;
    const { orgId, runId } = s.run;
    const hooks = this.deps.files;
    // A later node that got a secret may pass it on (return it, echo it to $STEPWISE_OUTPUT, quote it in an error):
    // what is recorded carries the mask the logs use, never the value.
    const mask = secretMasker(secrets);
    // A short log rides in the attempt record (hash and all) instead of costing an S3 PUT of its own.
    let key: string | null = null;
    let logInline: string | null = null;
    if (outcome && outcome.logBytes > 0) {
      if (outcome.logBytes <= LOG_INLINE_BYTES) logInline = await readInlineLog(outcome.logPath, outcome.logSha256);
      if (logInline === null) {
        key = logKey(orgId, runId, node.id, attempt);
        await putLocalFile(this.deps.blobs, key, outcome.logPath, outcome.logBytes, "text/plain; charset=utf-8");
      } else if (outcome.liveCopied) {
        // The live copy published while it ran is not needed: the record holds the log now.
        await this.deps.blobs.delete(logKey(orgId, runId, node.id, attempt)).catch(() => {});
      }
    }
    let status = outcome?.status ?? "failed";
    let error: RunError | null = outcome?.error ? { ...outcome.error, nodeId: node.id } : null;
    if (setupError) error = { ...setupError, nodeId: node.id };
    let outputs: AttemptRecord["outputs"] = [];
    // Every attempt that ran keeps the evidence of what it wrote, failed ones too; only a succeeded attempt's files
    // become run files that later nodes read (currentFiles).
    if (outcome && hooks?.collectOutputs) {
      try {
        outputs = await hooks.collectOutputs(s.state, node, outcome, secrets);
      } catch (err) {
        const message = (err as Error).message;
        const code = (err as { code?: unknown }).code;
        if (code === "secret_in_output" && status !== "cancelled") {
          // A file holding a secret fails the attempt whatever its exit: storing it would store the secret.
          status = "failed";
          error = {
            code,
            message: error ? `${message} (the task also failed: ${error.message})` : message,
            nodeId: node.id,
          };
        } else if (status === "succeeded" || status === "no_action") {
          status = "failed";
          error = { code: "output_files", message, nodeId: node.id };
        } else if (error) {
          error = { ...error, message: `${error.message} (its out/ files were not recorded: ${message})` };
        }
      }
    }
    const masked = maskOutputVariables(outcome?.outputVariables ?? {}, secrets);
    if (status === "succeeded" || status === "no_action") {
      const conflicts = typeConflicts(deriveContext(s.state.tasks.values()), masked.vars);
      if (conflicts.length) {
        status = "failed";
        error = { code: "context_type", message: conflicts.join("; "), nodeId: node.id };
      }
    }
    if (error) error = { ...error, message: mask(error.message) };
    const noActionReason = outcome?.noActionReason ? mask(outcome.noActionReason) : null;
    // An attempt that failed before its process started still records what it would have run, and where.
    const runtime = outcome ?? (await runtimeImage(node.type, this.deps.settings.workRoot));
    const attemptRecord: AttemptRecord = {
      attempt,
      status: status === "no_action" ? "succeeded" : status,
      image: runtime.image,
      imageHash: runtime.imageHash,
      command: outcome?.command ?? (node.type === "command" ? node.command : null),
      codeHash: outcome?.codeHash ?? sha256(node.type === "command" ? node.command : node.code),
      inputs: hooks?.inputsOf ? hooks.inputsOf(s.state, node) : [],
      outputs,
      outputVariables: status === "failed" ? {} : masked.vars,
      // Names only: tells whoever reads the context why a value shows the mask.
      ...(status !== "failed" && masked.masked.length ? { maskedOutputs: masked.masked } : {}),
      exitCode: outcome?.exitCode ?? null,
      stdout: outcome?.stdoutHead.slice(0, LOG_HEAD_BYTES) ?? "",
      stderr: outcome?.stderrHead.slice(0, LOG_HEAD_BYTES) ?? "",
      logKey: key,
      ...(logInline !== null ? { logInline } : {}),
      logSha256: key || logInline !== null ? (outcome?.logSha256 ?? null) : null,
      startedAt: outcome?.startedAt ?? isoMicro(this.now()),
      endedAt: outcome?.endedAt ?? isoMicro(this.now()),
      durationMs: outcome?.durationMs ?? 0,
      host: outcome?.host ?? hostname(),
      error,
    };
    const failedSoFar =
      s.task(node).attempts.filter((a) => a.status === "failed").length + (status === "failed" ? 1 : 0);
    const maxAttempts = node.retry?.maxAttempts ?? 1;
    // Failures that another attempt would only repeat are not retried.
    const retry =
      status === "failed" &&
      failedSoFar < maxAttempts &&
      error?.code !== "context_type" &&
      error?.code !== "secret_in_output";
    if (retry) {
      await s.setTask(
        node,
        "task.retry",
        (cur) =>
          cur.status === "running"
            ? {
                ...cur,
                ...attemptRecord,
                status: "running",
                attempt: attempt + 1,
                attempts: [...cur.attempts, attemptRecord],
              }
            : null,
        ENGINE_ACTOR,
        { attempt, error: error?.message },
      );
      const backoff = (node.retry?.backoffSeconds ?? 1) * 2 ** (failedSoFar - 1) * 1000;
      this.timers.set(node.id, this.now() + backoff);
      return;
    }
    const final = status === "no_action" ? "succeeded" : status;
    // A cancel that landed while the process ran already ended the task: keep the attempt's evidence anyway.
    if (s.task(node).status === "cancelled") {
      await s.setTask(node, "task.evidence", (cur) =>
        cur.attempts.some((a) => a.attempt === attempt)
          ? null
          : {
              ...cur,
              ...attemptRecord,
              status: "cancelled",
              attempt,
              attempts: [...cur.attempts, { ...attemptRecord, status: "cancelled" }],
            },
      );
      this.cancelled = true;
      return;
    }
    await s.setTask(node, "task.transition", (cur, st) => {
      if (cur.status !== "running") return null;
      return {
        ...cur,
        ...attemptRecord,
        status: final,
        attempt,
        attempts: [...cur.attempts, attemptRecord],
        contextSeq: final === "succeeded" ? st.head.seq + 1 : null,
        noActionReason: status === "no_action" ? noActionReason : null,
      };
    });
    if (status === "no_action" && !this.noAction) this.noAction = noActionReason ?? "no action";
    if (status === "failed" && !this.failure)
      this.failure = error ?? { code: "task_failed", message: `'${node.id}' failed`, nodeId: node.id };
    if (status === "cancelled") this.cancelled = true;
  }

  private async fireTimers(): Promise<void> {
    for (const [id, due] of [...this.timers]) {
      if (due > this.now()) continue;
      this.timers.delete(id);
      const node = this.def.nodes.find((n) => n.id === id);
      if (!node) continue;
      if (node.type === "wait") {
        const at = isoMicro(this.now());
        await this.session.setTask(node, "task.transition", (cur, st) =>
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
      } else if (!isTerminalRun(this.session.run.status) && !this.failure && !this.cancelled) {
        this.launch(node); // a retry whose backoff ended
      } else {
        const at = isoMicro(this.now());
        await this.session.setTask(node, "task.transition", (cur) =>
          cur.status === "running" ? { ...cur, status: "cancelled", endedAt: at } : null,
        );
      }
    }
  }

  /** Stops every child process (the run was cancelled) and records those tasks as cancelled. */
  private async stopAll(): Promise<void> {
    for (const f of this.inFlight.values()) f.abort.abort();
    await Promise.all([...this.inFlight.values()].map((f) => f.done));
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

  private async conclude(
    out: (next: AdvanceOutput["next"], extra?: Partial<AdvanceOutput>) => AdvanceOutput,
  ): Promise<AdvanceOutput> {
    const s = this.session;
    if (this.cancelled || isTerminalRun(s.run.status)) {
      await this.stopAll();
      return out(s.run.status === "failed" ? "failed" : "done");
    }
    if (this.failure) {
      await finishRun(s, "failed", { error: this.failure }, ENGINE_ACTOR, this.def);
      return out("failed");
    }
    if (this.noAction) {
      await finishRun(s, "no_action", { noActionReason: this.noAction }, ENGINE_ACTOR, this.def);
      return out("done");
    }
    await finishRun(s, "succeeded", {}, ENGINE_ACTOR, this.def);
    return out("done");
  }
}

function secretEnv(secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(secrets))
    env[`STEPWISE_SECRET_${k.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}`] = v;
  return env;
}

/** The attempt-level fields of a task record. */
export function stripAttempt(t: TaskRecord): AttemptRecord {
  const {
    nodeId: _n,
    type: _t,
    attempts: _a,
    contextSeq: _c,
    noActionReason: _r,
    waitingSince: _w,
    decisions: _d,
    submittedBy: _s,
    ...rest
  } = t;
  return { ...emptyAttempt(t.attempt), ...rest, status: t.status };
}

export function durationBetween(from: string | null, to: string): number | null {
  if (!from) return null;
  return Math.round((parseIsoMicro(to) - parseIsoMicro(from)) * 1000) / 1000;
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
    (await session.deps.store.getWorkflowByHash(session.run.orgId, session.run.workflow.definitionHash))?.definition;
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
