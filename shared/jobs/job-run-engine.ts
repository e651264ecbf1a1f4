import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { isTerminalRun, type Principal, type RunRecord, type RunStatus } from "../domain/records.ts";
import { ConflictError, NotFoundError, StaleStateError, StepwiseError } from "../errors.ts";
import { retryOnStale, wroteUnlessStale } from "../kernel/optimistic-update.ts";
import { cancelRun, triggerRun } from "../runs/runs.ts";
import {
  assertJobRunTransition,
  HALTING_RUN_STATUSES,
  isTerminalJobRun,
  type JobRunRecord,
  type JobRunStatus,
  type JobWorkflowRun,
} from "./job-records.ts";
import type { JobStepResult } from "./job-run-state-machine.ts";

/** Writes the job run's next version, conditional on the revision read; false when another writer won. */
const saveJobRun = (deps: Deps, next: JobRunRecord, readRev: number): Promise<boolean> =>
  wroteUnlessStale(() => deps.repos.jobs.saveJobRun(next, readRev));

/** Tells every job-run subscriber about a status change; a failing subscriber never fails the job run. */
export async function notifyJobRunChange(deps: Deps, jobRun: JobRunRecord, from: JobRunStatus | null): Promise<void> {
  await deps.events.jobRunChanged(jobRun, from);
}

/**
 * Applies the change `build` makes to the job run's current version, as a write conditional on the revision
 * it read (reloading and rebuilding when another writer won), then tells the listeners if the status moved.
 * `build` returns null for "nothing to change". Returns the job run as stored after, or null when missing.
 */
export async function updateJobRun(
  deps: Deps,
  orgId: string,
  jobRunId: string,
  build: (current: JobRunRecord) => JobRunRecord | null,
): Promise<{ jobRun: JobRunRecord; changed: boolean } | null> {
  return retryOnStale(
    async () => {
      const current = await deps.repos.jobs.getJobRun(orgId, jobRunId);
      if (!current) return null;
      const next = build(structuredClone(current));
      if (!next) return { jobRun: current, changed: false };
      if (next.status !== current.status) assertJobRunTransition(current.status, next.status);
      await deps.repos.jobs.saveJobRun(next, current.rev);
      if (next.status !== current.status) await notifyJobRunChange(deps, next, current.status);
      return { jobRun: next, changed: true };
    },
    {
      attempts: 20,
      exhausted: () => {
        throw new StaleStateError(`job run ${jobRunId} kept changing under the engine`);
      },
    },
  );
}

/** The job run moved to `to` at `at`, with its timestamps. */
export function withStatus(jr: JobRunRecord, to: JobRunStatus, at: string): JobRunRecord {
  const next: JobRunRecord = { ...jr, status: to, updatedAt: at };
  if (to === "in_progress" && !next.startedAt) next.startedAt = at;
  if (isTerminalJobRun(to)) {
    next.completedAt = at;
    // The workflows it never reached are reported as such.
    const order = jr.jobConfigJsonSnapshot.workflowExecutionOrder;
    const rest = order.slice(jr.workflowRuns.length).map(
      (workflow): JobWorkflowRun => ({
        workflow,
        runId: null,
        status: "not_started",
      }),
    );
    next.workflowRuns = [...jr.workflowRuns, ...rest];
  }
  return next;
}

/** The principal a job run's workflow runs are started as: the person who started the job run. */
const jobPrincipal = (jr: JobRunRecord): Principal => ({
  orgId: jr.orgId,
  keyId: "job",
  role: "operator",
  userId: jr.createdBy,
  platform: false,
});

type Step = { kind: "wait"; runId: string } | { kind: "end"; next: JobStepResult["next"] };

const endOf = (jr: JobRunRecord): Step => ({ kind: "end", next: jr.status === "failed" ? "failed" : "done" });

/**
 * One step of a job run: brings it up to date with its current workflow run, then halts, completes, waits
 * on, or starts the next workflow run. Safe to repeat (a retried Lambda, a re-armed wait): a workflow run is
 * started with an idempotency key per position, and every write is conditional.
 */
export async function stepJobRun(deps: Deps, orgId: string, jobRunId: string): Promise<Step> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const jr = await deps.repos.jobs.getJobRun(orgId, jobRunId);
    if (!jr) return { kind: "end", next: "done" };
    if (isTerminalJobRun(jr.status)) return endOf(jr);
    const at = nowIso(deps.clock);
    const entries = jr.workflowRuns;
    const current = entries.at(-1);
    if (current?.runId) {
      const status: RunStatus | null = await deps.store.getRunStatus(orgId, current.runId);
      if (status && !isTerminalRun(status)) return { kind: "wait", runId: current.runId };
      const finished: JobWorkflowRun = { ...current, status: status ?? "failed" };
      const synced = { ...jr, workflowRuns: [...entries.slice(0, -1), finished] };
      const halt = HALTING_RUN_STATUSES[finished.status as RunStatus];
      if (halt) {
        const next = withStatus(synced, halt, at);
        next.error = {
          code: `workflow_run_${finished.status}`,
          message: `workflow '${current.workflow}' (run ${current.runId}) ended ${status ?? "missing"}`,
        };
        if (!(await saveJobRun(deps, next, jr.rev))) continue;
        await notifyJobRunChange(deps, next, jr.status);
        return endOf(next);
      }
      if (synced.workflowRuns.length >= jr.jobConfigJsonSnapshot.workflowExecutionOrder.length) {
        const next = withStatus(synced, "completed", at);
        if (!(await saveJobRun(deps, next, jr.rev))) continue;
        await notifyJobRunChange(deps, next, jr.status);
        return endOf(next);
      }
    }
    return startNext(deps, jr);
  }
  throw new StaleStateError(`job run ${jobRunId} kept changing under the engine`);
}

/** Starts the job run's next workflow run, by the definition hash its snapshot holds, and records it. */
async function startNext(deps: Deps, jr: JobRunRecord): Promise<Step> {
  const index = jr.workflowRuns.length;
  const snapshot = jr.jobConfigJsonSnapshot;
  const pinned = snapshot.workflows[index];
  const workflow = snapshot.workflowExecutionOrder[index];
  if (!pinned || !workflow) throw new Error(`job run ${jr.jobRunId} has no workflow at position ${index}`);
  let runId: string;
  try {
    const started = await triggerRun(deps, jobPrincipal(jr), {
      definitionHash: pinned.definitionHash,
      parameters: snapshot.parameters[workflow] ?? {},
      trigger: { type: "job", userId: jr.createdBy, jobName: jr.job },
      jobRunId: jr.jobRunId,
      // One key per position: a retried step finds the run it started instead of starting another.
      idempotencyKey: `${jr.jobRunId}#${index}`,
    });
    runId = started.runId;
  } catch (err) {
    // A definition or its parameters that no longer start (never expected: both were checked at creation).
    if (!(err instanceof StepwiseError)) throw err;
    const res = await updateJobRun(deps, jr.orgId, jr.jobRunId, (cur) => {
      if (isTerminalJobRun(cur.status)) return null;
      const next = withStatus(cur, "failed", nowIso(deps.clock));
      next.error = { code: "start_failed", message: `workflow '${workflow}' could not start: ${err.message}` };
      return next;
    });
    return res ? endOf(res.jobRun) : { kind: "end", next: "done" };
  }
  const res = await updateJobRun(deps, jr.orgId, jr.jobRunId, (cur) => {
    if (isTerminalJobRun(cur.status) || cur.workflowRuns.some((w) => w.runId === runId)) return null;
    if (cur.workflowRuns.length !== index) throw new ConflictError(`job run ${jr.jobRunId} moved on meanwhile`);
    const at = nowIso(deps.clock);
    const next = cur.status === "pending" ? withStatus(cur, "in_progress", at) : { ...cur, updatedAt: at };
    // Its status catches up through the run listener from here on (and when the view is read).
    next.workflowRuns = [...cur.workflowRuns, { workflow, runId, status: "queued" }];
    return next;
  });
  if (res && isTerminalJobRun(res.jobRun.status)) {
    // Cancelled while the run was being started: it must not go on by itself.
    await cancelRun(deps, jobPrincipal(res.jobRun), runId, "the job run was cancelled").catch(ignoreEnded);
    return endOf(res.jobRun);
  }
  return { kind: "wait", runId };
}

/** A run that has already ended (or vanished) cannot be cancelled; that is fine here. */
function ignoreEnded(err: unknown): void {
  if (err instanceof ConflictError || err instanceof NotFoundError) return;
  throw err;
}

/**
 * RunNext (the waitForTaskToken task): takes one step, then either stores the token and re-reads the
 * workflow run it waits for (it may have ended before the token was stored: then resume at once), or
 * completes its own token to tell Route how the job run ended.
 */
export async function runNextWorkflow(
  deps: Deps,
  ids: { orgId: string; jobRunId: string; token: string },
): Promise<void> {
  const step = await stepJobRun(deps, ids.orgId, ids.jobRunId);
  if (step.kind === "wait") {
    await deps.repos.jobs.putWait(ids.orgId, ids.jobRunId, {
      token: ids.token,
      runId: step.runId,
      at: nowIso(deps.clock),
    });
    const status = await deps.store.getRunStatus(ids.orgId, step.runId);
    if (!status || isTerminalRun(status)) await resume(deps, ids.token, "continue");
    return;
  }
  await deps.repos.jobs.deleteWait(ids.orgId, ids.jobRunId);
  await resume(deps, ids.token, step.next);
}

async function resume(deps: Deps, token: string, next: JobStepResult["next"]): Promise<boolean> {
  const result: JobStepResult = { next };
  return deps.orchestrator.sendTaskSuccess(token, { ...result });
}

/**
 * The run listener: keeps the job run's view of its workflow run current, and when that run reaches a
 * terminal status, completes the task token the job run's execution is waiting on.
 */
export async function onWorkflowRunChange(deps: Deps, run: RunRecord, _from: RunStatus | null): Promise<void> {
  if (!run.jobRunId) return;
  await updateJobRun(deps, run.orgId, run.jobRunId, (jr) => {
    const i = jr.workflowRuns.findIndex((w) => w.runId === run.runId);
    const entry = jr.workflowRuns[i];
    // Not recorded yet (RunNext re-reads the run after recording it), unchanged, or already final.
    if (!entry || entry.status === run.status) return null;
    if (entry.status !== "not_started" && isTerminalRun(entry.status)) return null;
    jr.workflowRuns[i] = { ...entry, status: run.status };
    jr.updatedAt = nowIso(deps.clock);
    return jr;
  });
  if (!isTerminalRun(run.status)) return;
  const wait = await deps.repos.jobs.getWait(run.orgId, run.jobRunId);
  if (wait && wait.runId === run.runId) await resume(deps, wait.token, "continue");
}

/** RecordFailure: a handler error the job state machine caught ends the job run as failed with the reason. */
export async function recordJobRunFailure(
  deps: Deps,
  ids: { orgId: string; jobRunId: string; error?: { Error?: string; Cause?: string } },
): Promise<{ orgId: string; jobRunId: string }> {
  let message = ids.error?.Cause ?? "the job engine failed";
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (parsed.errorMessage) message = parsed.errorMessage;
  } catch {
    // Cause is plain text
  }
  await updateJobRun(deps, ids.orgId, ids.jobRunId, (jr) => {
    if (isTerminalJobRun(jr.status)) return null;
    const next = withStatus(jr, "failed", nowIso(deps.clock));
    next.error = { code: ids.error?.Error ?? "engine_error", message: message.slice(0, 1000) };
    return next;
  });
  await deps.repos.jobs.deleteWait(ids.orgId, ids.jobRunId);
  return { orgId: ids.orgId, jobRunId: ids.jobRunId };
}

/**
 * Reconcile: an execution that ended outside the handlers (aborted, timed out) leaves a job run that is not
 * terminal; it becomes failed, or cancelled when a cancel was requested.
 */
export async function reconcileJobRunExecution(
  deps: Deps,
  ids: { orgId: string; jobRunId: string; executionStatus: string },
): Promise<{ changed: boolean }> {
  const res = await updateJobRun(deps, ids.orgId, ids.jobRunId, (jr) => {
    if (isTerminalJobRun(jr.status)) return null;
    const at = nowIso(deps.clock);
    if (jr.cancelRequest) return withStatus(jr, "cancelled", at);
    const next = withStatus(jr, "failed", at);
    next.error = {
      code: "execution_ended",
      message: `the job run's execution ended with status ${ids.executionStatus}`,
    };
    return next;
  });
  return { changed: Boolean(res?.changed) };
}
