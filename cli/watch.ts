import { type ApiClient, ApiError, type JobRun, type Run, type WorkflowDefinition } from "./api-client.ts";
import type { Context, TextSink } from "./context.ts";
import { CliError } from "./errors.ts";
import {
  elapsedMs,
  fitWidth,
  formatDuration,
  formatStatus,
  paint,
  renderProgressLines,
  renderTable,
  type StepRow,
  TERMINAL_JOB_RUN_STATUSES,
  TERMINAL_RUN_STATUSES,
} from "./format.ts";
import { loadRunView, stepRows } from "./steps.ts";

const ESC = "\u001b";
/** The key under which change tracking remembers the run's own status; no node id can collide with it. */
const RUN_KEY = "\u0000run";

/** Redraws a block of lines in place on a terminal. */
class LiveArea {
  private height = 0;
  constructor(private readonly sink: TextSink) {}
  draw(lines: readonly string[]): void {
    // Long lines wrap and would break the cursor arithmetic, so cut them to the terminal width.
    const width = Math.max(20, (this.sink.columns ?? 120) - 1);
    const fitted = lines.map((l) => fitWidth(l, width));
    const up = this.height ? `${ESC}[${this.height}A\r${ESC}[0J` : "";
    this.sink.write(`${up}${fitted.join("\n")}\n`);
    this.height = fitted.length;
  }
}

/** Lines naming what changed between two snapshots of a run, for logs and pipes (one line per change). */
export function changeLines(
  previous: ReadonlyMap<string, string>,
  runId: string,
  runStatus: string,
  rows: readonly StepRow[],
  color: boolean,
): { lines: string[]; next: Map<string, string> } {
  const next = new Map<string, string>();
  const lines: string[] = [];
  const width = Math.max(0, ...rows.map((r) => r.id.length));
  next.set(RUN_KEY, runStatus);
  // The run's own line leads while it moves, but trails once it ends: it ends after its last node.
  const terminal = TERMINAL_RUN_STATUSES.includes(runStatus);
  const runChanged = previous.get(RUN_KEY) !== runStatus;
  if (runChanged && !terminal) lines.push(`${runId} ${formatStatus(runStatus, color)}`);
  for (const row of rows) {
    next.set(row.id, row.status);
    const before = previous.get(row.id) ?? "pending";
    if (before === row.status) continue;
    const duration = row.durationMs !== null && !isLive(row.status) ? `  ${formatDuration(row.durationMs)}` : "";
    lines.push(`  ${row.id.padEnd(width)}  ${formatStatus(row.status, color)}${duration}`);
    const hint = humanHint(runId, row);
    if (hint) lines.push(`  ${" ".repeat(width)}  ${hint}`);
  }
  if (runChanged && terminal) lines.push(`${runId} ${formatStatus(runStatus, color)}`);
  return { lines, next };
}

const isLive = (status: string) => status === "running" || status.startsWith("awaiting_");

function humanHint(runId: string, row: StepRow): string | undefined {
  if (row.status === "awaiting_approval") return `→ stepwise runs approve ${runId} ${row.id}`;
  if (row.status === "awaiting_input") return `→ stepwise runs input ${runId} ${row.id} key=value…`;
  return undefined;
}

/** The live view of a run: a header line, then one line per node with status and duration. */
export function runFrame(run: Run, rows: readonly StepRow[], nowMs: number, color: boolean): string[] {
  const took = elapsedMs(run.startedAt ?? run.createdAt, run.completedAt, nowMs);
  const header = `${run.runId}  ${run.workflow.name} v${run.workflow.version}  ${formatStatus(run.status, color)}  ${formatDuration(took)}`;
  const hints = rows.map((r) => humanHint(run.runId, r)).filter((h): h is string => h !== undefined);
  return [header, ...renderProgressLines(rows, color), ...hints.map((h) => `  ${paint(h, "yellow", color)}`)];
}

/** A one-line ending for a run: its status, how long it took and why it stopped. */
export function runOutcome(run: Run, color: boolean): string {
  const took = formatDuration(elapsedMs(run.startedAt ?? run.createdAt, run.completedAt));
  let why = "";
  if (run.status === "failed" && run.error) {
    why = `: ${run.error.nodeId ? `node '${run.error.nodeId}': ` : ""}${run.error.message}`;
  } else if (run.status === "no_action" && run.noActionReason) {
    why = `: ${run.noActionReason}`;
  }
  return `${run.runId} ${formatStatus(run.status, color)} in ${took}${why}`;
}

/** Retries a poll through brief outages (server restarting, 5xx) instead of abandoning a long wait. */
async function poll<T>(ctx: Context, load: () => Promise<T>): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await load();
    } catch (err) {
      // CliError here means the server could not be reached; ApiError 5xx means it answered badly.
      const transient = (err instanceof ApiError && err.status >= 500) || err instanceof CliError;
      if (!transient || failures >= 5) throw err;
      await ctx.io.sleep(ctx.io.pollMs * 2);
    }
  }
}

/**
 * Polls a run about every 500 ms until it is terminal. On a TTY it redraws a live view; otherwise it prints one
 * line per status change; with `json` it prints nothing. Returns the final run.
 */
export async function waitForRun(
  ctx: Context,
  client: ApiClient,
  runId: string,
  json: boolean,
  startedStatus?: string,
): Promise<Run> {
  const live = !json && ctx.io.stdout.isTTY ? new LiveArea(ctx.io.stdout) : null;
  let definition: WorkflowDefinition | null | undefined;
  // The "started … queued" line already showed the first status.
  let seen = new Map<string, string>(startedStatus ? [[RUN_KEY, startedStatus]] : []);
  for (;;) {
    const view = await poll(ctx, () => loadRunView(client, runId, definition));
    definition = view.definition;
    const now = ctx.io.now();
    const rows = stepRows(view.definition, view.tasks, now);
    const done = TERMINAL_RUN_STATUSES.includes(view.run.status);
    if (live) {
      live.draw(runFrame(view.run, rows, now, ctx.color));
    } else if (!json) {
      const change = changeLines(seen, runId, view.run.status, rows, ctx.color);
      seen = change.next;
      // The final status line comes from runOutcome below, with the reason.
      ctx.print(done ? change.lines.filter((l) => !l.startsWith(runId)) : change.lines);
    }
    if (done) {
      if (!json) ctx.print(runOutcome(view.run, ctx.color));
      return view.run;
    }
    await ctx.io.sleep(ctx.io.pollMs);
  }
}

interface JobStep {
  workflow: string;
  runId: string | null;
  status: string;
  durationMs: number | null;
}

/** What the job steps need of a job run: its execution order and its workflow runs. */
export type JobStepSource = Pick<JobRun, "workflowRuns"> &
  Partial<Omit<JobRun, "workflowRuns" | "jobConfigJsonSnapshot">> & {
    jobConfigJsonSnapshot?: Partial<JobRun["jobConfigJsonSnapshot"]>;
  };

/** One row per workflow of a job run, in execution order; workflows not started yet are `pending`. */
export function jobSteps(jobRun: JobStepSource, runs: ReadonlyMap<string, Run>, nowMs: number): JobStep[] {
  const order = jobRun.jobConfigJsonSnapshot?.workflowExecutionOrder ?? jobRun.workflowRuns.map((w) => w.workflow);
  const remaining = [...jobRun.workflowRuns];
  const steps = order.map((workflow): JobStep => {
    // The same workflow may appear twice in a job; take its runs in order.
    const at = remaining.findIndex((w) => w.workflow === workflow);
    const wr = at >= 0 ? remaining.splice(at, 1)[0] : undefined;
    const run = wr?.runId ? runs.get(wr.runId) : undefined;
    return {
      workflow,
      runId: wr?.runId ?? null,
      status: run?.status ?? wr?.status ?? "pending",
      durationMs: run ? elapsedMs(run.startedAt ?? run.createdAt, run.completedAt, nowMs) : null,
    };
  });
  for (const wr of remaining)
    steps.push({ workflow: wr.workflow, runId: wr.runId, status: wr.status, durationMs: null });
  return steps;
}

/** The live view of a job run: a header, then one line per workflow with status, duration and run id. */
export function jobRunFrame(jobRun: JobRun, steps: readonly JobStep[], nowMs: number, color: boolean): string[] {
  const took = elapsedMs(jobRun.createdAt, jobRun.completedAt, nowMs);
  const header = `${jobRun.jobRunId}  ${jobRun.job}  ${formatStatus(jobRun.status, color)}  ${formatDuration(took)}`;
  const rows = renderTable(steps, [
    { header: "", value: (s) => s.workflow },
    { header: "", value: (s) => formatStatus(s.status, color) },
    { header: "", value: (s) => formatDuration(s.durationMs) },
    { header: "", value: (s) => s.runId ?? "" },
  ]);
  return [header, ...rows.slice(1).map((r) => `  ${r}`)];
}

/** Polls a job run until it is terminal, showing progress per workflow; returns the final job run. */
export async function waitForJobRun(
  ctx: Context,
  client: ApiClient,
  jobRunId: string,
  json: boolean,
  startedStatus?: string,
): Promise<JobRun> {
  const live = !json && ctx.io.stdout.isTTY ? new LiveArea(ctx.io.stdout) : null;
  const runs = new Map<string, Run>();
  // The "started … pending" line already showed the first status.
  const seen = new Map<string, string>(startedStatus ? [["\u0000job", startedStatus]] : []);
  for (;;) {
    const jobRun = await poll(ctx, () => client.getJobRun(jobRunId));
    // Terminal runs never change, so only the ones still moving are fetched again.
    // Workflows the job run never started (runId null) have no run to fetch.
    const moving = jobRun.workflowRuns.flatMap((w) =>
      w.runId && !TERMINAL_RUN_STATUSES.includes(runs.get(w.runId)?.status ?? "") ? [w.runId] : [],
    );
    const fresh = await poll(ctx, () => Promise.all(moving.map((id) => client.getRun(id))));
    for (const run of fresh) runs.set(run.runId, run);
    const now = ctx.io.now();
    const steps = jobSteps(jobRun, runs, now);
    const done = TERMINAL_JOB_RUN_STATUSES.includes(jobRun.status);
    if (live) {
      live.draw(jobRunFrame(jobRun, steps, now, ctx.color));
    } else if (!json) {
      const width = Math.max(0, ...steps.map((s) => s.workflow.length));
      steps.forEach((s, i) => {
        const key = `${i}:${s.workflow}`;
        if ((seen.get(key) ?? "pending") === s.status) return;
        seen.set(key, s.status);
        const took = isLive(s.status) || s.durationMs === null ? "" : formatDuration(s.durationMs);
        const tail = [took, s.runId ?? ""].filter(Boolean).join("  ");
        ctx.print(`  ${s.workflow.padEnd(width)}  ${formatStatus(s.status, ctx.color)}${tail ? `  ${tail}` : ""}`);
      });
      if (seen.get("\u0000job") !== jobRun.status && !done)
        ctx.print(`${jobRunId} ${formatStatus(jobRun.status, ctx.color)}`);
      seen.set("\u0000job", jobRun.status);
    }
    if (done) {
      if (!json) {
        const took = formatDuration(elapsedMs(jobRun.createdAt, jobRun.completedAt));
        const why = jobRun.error?.message ? `: ${jobRun.error.message}` : "";
        ctx.print(`${jobRunId} ${formatStatus(jobRun.status, ctx.color)} in ${took}${why}`);
      }
      return jobRun;
    }
    await ctx.io.sleep(ctx.io.pollMs);
  }
}
