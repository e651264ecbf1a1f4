import type { Command } from "commander";
import type { JobRun, Run } from "../api-client.ts";
import type { Context } from "../context.ts";
import { readNamedDocument, withoutName } from "../files.ts";
import {
  elapsedMs,
  formatDuration,
  formatStatus,
  formatTime,
  renderKeyValues,
  renderStepTable,
  renderTable,
  TERMINAL_JOB_RUN_STATUSES,
  truncate,
} from "../format.ts";
import { coerceParameters, groupJobParameters, parseAssignments } from "../params.ts";
import { loadRunView, stepRows } from "../steps.ts";
import { jobSteps, waitForJobRun } from "../watch.ts";
import { collect, type JsonOption, output, type PageOptions, pageFooter, withJson, withPaging } from "./options.ts";

/** `jobs …` and `job-runs …`. */
export function registerJobCommands(program: Command, ctx: Context): void {
  const jobs = program.command("jobs").description("run workflows one after another");

  withJson(
    jobs
      .command("apply <file>")
      .description(
        "create or update a job from a JSON or YAML file {name, description?, workflowExecutionOrder, parameters?}",
      ),
  ).action(async (file: string, opts: JsonOption) => {
    const doc = await readNamedDocument(file, ctx.io.cwd);
    const client = await ctx.client();
    const res = await client.applyJob(doc.name, withoutName(doc));
    output(ctx, opts, res.body, () => {
      const order = Array.isArray(doc.workflowExecutionOrder) ? doc.workflowExecutionOrder.join(" → ") : "";
      const verb = res.status === 201 ? "created" : "updated";
      return `${formatStatus(verb, ctx.color)} job ${doc.name}${order ? `: ${order}` : ""}`;
    });
  });

  withJson(withPaging(jobs.command("list").description("list jobs"))).action(async (opts: PageOptions) => {
    const client = await ctx.client();
    const page = await client.listJobs({ limit: opts.limit, cursor: opts.cursor });
    output(ctx, opts, page, () =>
      page.items.length === 0
        ? "no jobs yet: stepwise jobs apply <file>"
        : renderTable(page.items, [
            { header: "name", value: (j) => j.name },
            { header: "workflows", value: (j) => (j.workflowExecutionOrder ?? []).join(" → ") },
            { header: "description", value: (j) => truncate(j.description ?? "", 60) },
          ]),
    );
    if (!opts.json) pageFooter(ctx, page.nextCursor);
  });

  withJson(
    jobs
      .command("run <name>")
      .description("start a job run")
      .option(
        "-p, --param <workflow.key=value>",
        "a parameter for one workflow of the job, coerced by its declared type (repeatable)",
        collect,
        [],
      )
      .option("--wait", "follow the job run until it ends; exit 0 when completed, 1 otherwise"),
  ).action(async (name: string, opts: JsonOption & { wait?: boolean; param: string[] }) => {
    const grouped = groupJobParameters(parseAssignments(opts.param));
    const client = await ctx.client();
    let parameters: Record<string, Record<string, unknown>> | undefined;
    for (const [workflow, raw] of Object.entries(grouped)) {
      const wf = await client.getWorkflow(workflow);
      parameters = { ...parameters, [workflow]: coerceParameters(raw, wf.definition?.parameters) };
    }
    const started = await client.startJob(name, parameters);
    const line = `started ${started.jobRunId} ${name} ${formatStatus(started.status, ctx.color)}`;
    if (!opts.wait) {
      output(ctx, opts, started, () => line);
      return;
    }
    if (!opts.json) ctx.print(line);
    const jobRun = await waitForJobRun(ctx, client, started.jobRunId, Boolean(opts.json), started.status);
    if (opts.json) ctx.json(jobRun);
    ctx.exitCode = jobRun.status === "completed" ? 0 : 1;
  });

  const jobRuns = program.command("job-runs").description("inspect job runs");

  withJson(
    withPaging(
      jobRuns
        .command("list")
        .description("list job runs, newest first")
        .option("--job <name>", "only runs of this job")
        .option("--status <status>", "only job runs in this status"),
    ),
  ).action(async (opts: PageOptions & { job?: string; status?: string }) => {
    const client = await ctx.client();
    const page = await client.listJobRuns({
      job: opts.job,
      status: opts.status,
      limit: opts.limit,
      cursor: opts.cursor,
    });
    output(ctx, opts, page, () =>
      page.items.length === 0
        ? "no job runs match"
        : renderTable(page.items, [
            { header: "job run", value: (j) => j.jobRunId },
            { header: "job", value: (j) => j.job },
            { header: "status", value: (j) => formatStatus(j.status, ctx.color) },
            { header: "workflows", value: (j) => workflowProgress(j) },
            { header: "created", value: (j) => formatTime(j.createdAt) },
            {
              header: "duration",
              value: (j) => {
                const live = !TERMINAL_JOB_RUN_STATUSES.includes(j.status);
                return formatDuration(elapsedMs(j.createdAt, j.completedAt, live ? ctx.io.now() : undefined));
              },
              align: "right",
            },
          ]),
    );
    if (!opts.json) pageFooter(ctx, page.nextCursor);
  });

  withJson(
    jobRuns
      .command("get <jobRunId>")
      .description(
        "show a job run, its workflow runs and their steps (--json: each workflow run carries run and tasks)",
      ),
  ).action(async (jobRunId: string, opts: JsonOption) => {
    const client = await ctx.client();
    const jobRun = await client.getJobRun(jobRunId);
    const views = await Promise.all(
      jobRun.workflowRuns.flatMap((w) => (w.runId ? [loadRunView(client, w.runId)] : [])),
    );
    const byRun = new Map(views.map((v) => [v.run.runId, v]));
    const raw = {
      ...jobRun,
      workflowRuns: jobRun.workflowRuns.map((w) => ({
        ...w,
        run: byRun.get(w.runId ?? "")?.run ?? null,
        tasks: byRun.get(w.runId ?? "")?.tasks ?? [],
      })),
    };
    output(ctx, opts, raw, () => {
      const now = ctx.io.now();
      const live = !TERMINAL_JOB_RUN_STATUSES.includes(jobRun.status);
      const lines = renderKeyValues([
        ["job run", jobRun.jobRunId],
        ["job", jobRun.job],
        ["status", formatStatus(jobRun.status, ctx.color)],
        ["created by", jobRun.createdBy],
        ["created", formatTime(jobRun.createdAt)],
        ["completed", jobRun.completedAt ? formatTime(jobRun.completedAt) : undefined],
        ["duration", formatDuration(elapsedMs(jobRun.createdAt, jobRun.completedAt, live ? now : undefined))],
      ]);
      const runs = new Map<string, Run>(views.map((v) => [v.run.runId, v.run]));
      for (const step of jobSteps(jobRun, runs, now)) {
        lines.push("", [step.workflow, formatStatus(step.status, ctx.color), step.runId].filter(Boolean).join("  "));
        const view = step.runId ? byRun.get(step.runId) : undefined;
        if (view) {
          const rows = stepRows(view.definition, view.tasks, now);
          lines.push(...renderStepTable(rows, ctx.color).map((l) => `  ${l}`));
        }
      }
      return lines;
    });
  });

  withJson(jobRuns.command("cancel <jobRunId>").description("cancel a job run and its running workflow run")).action(
    async (jobRunId: string, opts: JsonOption) => {
      const client = await ctx.client();
      const res = await client.cancelJobRun(jobRunId);
      output(ctx, opts, res, () => `${jobRunId} ${formatStatus(res.status, ctx.color)}`);
    },
  );
}

/** `1/3 done`: how far a job run got through its workflows. */
function workflowProgress(jobRun: JobRun): string {
  const total = jobRun.jobConfigJsonSnapshot?.workflowExecutionOrder?.length ?? jobRun.workflowRuns.length;
  const done = jobRun.workflowRuns.filter((w) => w.status === "succeeded" || w.status === "no_action").length;
  return `${done}/${total}`;
}
