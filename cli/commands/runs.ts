import type { Command } from "commander";
import type { PendingHumanStep, Run } from "../api-client.ts";
import type { Context } from "../context.ts";
import { CliError } from "../errors.ts";
import {
  elapsedMs,
  formatContext,
  formatDuration,
  formatParameters,
  formatStatus,
  formatTime,
  renderKeyValues,
  renderStepTable,
  renderTable,
  TERMINAL_RUN_STATUSES,
  truncate,
} from "../format.ts";
import { coerceField, coerceFields, type InputFieldSpec, parseAssignments } from "../params.ts";
import { promptSecret } from "../prompt.ts";
import { findRunDefinition, loadRunView, stepRows } from "../steps.ts";
import { waitForRun } from "../watch.ts";
import { followLogs } from "./operate.ts";
import { type JsonOption, output, type PageOptions, pageFooter, withJson, withPaging } from "./options.ts";
import { startedLine } from "./workflows.ts";

interface ListOptions extends PageOptions {
  workflow?: string;
  status?: string;
  jobRun?: string;
}

/** The run table used by `runs list`. */
export function renderRunList(runs: readonly Run[], color: boolean, nowMs: number): string[] {
  return renderTable(runs, [
    { header: "run", value: (r) => r.runId },
    { header: "workflow", value: (r) => (r.workflow ? `${r.workflow.name} v${r.workflow.version}` : "-") },
    { header: "status", value: (r) => formatStatus(r.status, color) },
    { header: "trigger", value: (r) => r.trigger?.type ?? "-" },
    { header: "created", value: (r) => formatTime(r.createdAt) },
    {
      header: "duration",
      value: (r) => {
        const live = !TERMINAL_RUN_STATUSES.includes(r.status);
        return formatDuration(elapsedMs(r.startedAt, r.completedAt, live ? nowMs : undefined));
      },
      align: "right",
    },
  ]);
}

/** The header of `runs get`: one aligned line per fact about the run. */
export function renderRunHeader(run: Run, color: boolean, nowMs: number): string[] {
  const live = !TERMINAL_RUN_STATUSES.includes(run.status);
  const trigger = run.trigger
    ? `${run.trigger.type}${run.trigger.userId ? ` by ${run.trigger.userId}` : ""}`
    : undefined;
  const error = run.error ? `${run.error.nodeId ? `node '${run.error.nodeId}': ` : ""}${run.error.message}` : undefined;
  return renderKeyValues([
    ["run", run.runId],
    ["workflow", `${run.workflow.name} version ${run.workflow.version} (${run.workflow.definitionHash})`],
    ["status", formatStatus(run.status, color)],
    ["current", live && run.currentStateName ? run.currentStateName : undefined],
    ["trigger", trigger],
    ["rerun of", run.rerunOf ?? undefined],
    ["restart of", run.restartOf ?? undefined],
    ["queued", run.status === "queued" && run.queuedReason ? run.queuedReason.replace(/_/g, " ") : undefined],
    ["job run", run.jobRunId ?? undefined],
    ["created", formatTime(run.createdAt)],
    ["started", run.startedAt ? formatTime(run.startedAt) : undefined],
    ["completed", run.completedAt ? formatTime(run.completedAt) : undefined],
    ["duration", formatDuration(elapsedMs(run.startedAt, run.completedAt, live ? nowMs : undefined))],
    ["parameters", formatParameters(run.parameters)],
    ["context", formatContext(run.context)],
    ["error", error],
    ["no action", run.noActionReason ?? undefined],
    ["cancelled", cancelLine(run)],
  ]);
}

/** Who cancelled the run and why, as the header shows it. */
function cancelLine(run: Run): string | undefined {
  if (run.status !== "cancelled" && !run.cancelledBy) return undefined;
  if (!run.cancelledBy) return undefined;
  return `by ${run.cancelledBy}${run.cancelReason ? `: ${run.cancelReason}` : " (no reason given)"}`;
}

/** What a waiting human step asks for: the approval quorum so far, or the input's field names. */
function describeAsk(step: PendingHumanStep): string {
  if (step.type === "approval") return `approval ${step.approvals?.received ?? 0}/${step.approvals?.required ?? 1}`;
  const names = Object.entries(step.fields).map(([name, f]) => (f.secret ? `${name} (secret)` : name));
  return truncate(`input ${names.join(", ")}`, 48);
}

/** The table of `approvals list`: run, node, what is asked, who may answer, since when, and until when. */
function renderApprovalList(steps: readonly PendingHumanStep[], nowMs: number): string[] {
  return renderTable(steps, [
    { header: "run", value: (a) => a.runId },
    { header: "node", value: (a) => a.nodeId },
    { header: "workflow", value: (a) => (typeof a.workflow === "string" ? a.workflow : (a.workflow?.name ?? "-")) },
    { header: "asks", value: describeAsk },
    { header: "who may answer", value: (a) => (a.whoMayAnswer?.length ? a.whoMayAnswer.join(", ") : "-") },
    { header: "waiting since", value: (a) => formatTime(a.since) },
    { header: "waiting", value: (a) => formatDuration(elapsedMs(a.since, null, nowMs)), align: "right" },
    { header: "times out", value: (a) => formatTime(a.timeoutAt) },
  ]);
}

/** `runs …` and `approvals list`. */
export function registerRunsCommands(program: Command, ctx: Context): void {
  const runs = program.command("runs").description("inspect and act on runs");

  withJson(
    withPaging(
      runs
        .command("list")
        .description("list runs, newest first")
        .option("--workflow <name>", "only runs of this workflow")
        .option("--status <status>", "only runs in this status")
        .option("--job-run <jobRunId>", "only runs of this job run"),
    ),
  ).action(async (opts: ListOptions) => {
    const client = await ctx.client();
    const page = await client.listRuns({
      workflow: opts.workflow,
      status: opts.status,
      jobRunId: opts.jobRun,
      limit: opts.limit,
      cursor: opts.cursor,
    });
    output(ctx, opts, page, () =>
      page.items.length ? renderRunList(page.items, ctx.color, ctx.io.now()) : "no runs match",
    );
    if (!opts.json) pageFooter(ctx, page.nextCursor);
  });

  withJson(
    runs.command("get <runId>").description("show a run and its steps (--json: the run with a tasks array)"),
  ).action(async (runId: string, opts: JsonOption) => {
    const client = await ctx.client();
    const view = await loadRunView(client, runId);
    output(ctx, opts, { ...view.run, tasks: view.tasks }, () => {
      const now = ctx.io.now();
      return [
        ...renderRunHeader(view.run, ctx.color, now),
        "",
        ...renderStepTable(stepRows(view.definition, view.tasks, now), ctx.color),
      ];
    });
  });

  withJson(
    runs
      .command("logs <runId>")
      .description("print a run's logs, each line prefixed with its node id")
      .option("--node <nodeId>", "only this node's lines")
      .option("-f, --follow", "keep printing new lines until the run ends"),
  ).action(async (runId: string, opts: JsonOption & { node?: string; follow?: boolean }) => {
    const client = await ctx.client();
    if (opts.follow && !opts.json) {
      await followLogs(ctx, client, runId, opts.node);
      return;
    }
    const text = await client.getLogs(runId, opts.node);
    if (opts.json) ctx.json({ runId, node: opts.node ?? null, text });
    else if (text !== "") ctx.io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  });

  withJson(
    runs
      .command("cancel <runId>")
      .description("ask a run to stop")
      .option("-m, --message <reason>", "why it is cancelled (recorded in the audit trail)"),
  ).action(async (runId: string, opts: JsonOption & { message?: string }) => {
    const client = await ctx.client();
    const res = await client.cancelRun(runId, opts.message);
    output(ctx, opts, res, () => `cancel requested for ${runId}`);
  });

  withJson(
    runs
      .command("rerun <runId>")
      .description("start a new run with the same definition and parameters")
      .option("--wait", "follow the new run until it ends"),
  ).action(async (runId: string, opts: JsonOption & { wait?: boolean }) => {
    const client = await ctx.client();
    const started = await client.rerun(runId);
    if (!opts.wait) {
      output(
        ctx,
        opts,
        started,
        () => `${startedLine(ctx, started.runId, started.workflow, started.status)} (rerun of ${runId})`,
      );
      return;
    }
    if (!opts.json)
      ctx.print(`${startedLine(ctx, started.runId, started.workflow, started.status)} (rerun of ${runId})`);
    const run = await waitForRun(ctx, client, started.runId, Boolean(opts.json), started.status);
    if (opts.json) ctx.json(run);
    ctx.exitCode = run.status === "succeeded" || run.status === "no_action" ? 0 : 1;
  });

  withJson(runs.command("audit <runId>").description("show a run's audit trail, oldest first")).action(
    async (runId: string, opts: JsonOption) => {
      const client = await ctx.client();
      const audit = await client.getAudit(runId);
      output(ctx, opts, audit, () =>
        renderTable(audit.items, [
          { header: "seq", value: (e) => String(e.seq), align: "right" },
          { header: "at", value: (e) => formatTime(e.at) },
          { header: "type", value: (e) => e.type },
          { header: "change", value: (e) => (e.from || e.to ? `${e.from ?? "-"} → ${e.to ?? "-"}` : "") },
          { header: "actor", value: (e) => e.actor },
          {
            header: "detail",
            value: (e) => truncate(e.detail && Object.keys(e.detail).length ? JSON.stringify(e.detail) : "", 80),
          },
        ]),
      );
    },
  );

  withJson(
    runs
      .command("approve <runId> <nodeId>")
      .description("approve a human step")
      .option("-m, --message <comment>", "a comment recorded with the decision"),
  ).action(async (runId: string, nodeId: string, opts: JsonOption & { message?: string }) => {
    const client = await ctx.client();
    const res = await client.decide(runId, nodeId, "approve", opts.message);
    output(ctx, opts, res, () => `${formatStatus("approved", ctx.color)} ${nodeId} of ${runId}`);
  });

  withJson(
    runs
      .command("reject <runId> <nodeId>")
      .description("reject a human step")
      .requiredOption("-m, --message <reason>", "why it is rejected (required)"),
  ).action(async (runId: string, nodeId: string, opts: JsonOption & { message: string }) => {
    if (opts.message.trim() === "") throw new CliError("a reason is required: -m <reason>");
    const client = await ctx.client();
    const res = await client.decide(runId, nodeId, "reject", opts.message);
    output(ctx, opts, res, () => `${formatStatus("rejected", ctx.color)} ${nodeId} of ${runId}`);
  });

  withJson(
    runs
      .command("input <runId> <nodeId> [values...]")
      .description("answer an input step with key=value pairs; secret fields not given are prompted for"),
  ).action(async (runId: string, nodeId: string, items: string[], opts: JsonOption) => {
    const raw = parseAssignments(items);
    const client = await ctx.client();
    const run = await client.getRun(runId);
    const definition = await findRunDefinition(client, run);
    const node = definition?.nodes.find((n) => n.id === nodeId);
    const fields: Record<string, InputFieldSpec> | undefined = node?.type === "input" ? node.fields : undefined;
    const values = coerceFields(raw, fields);
    for (const [key, field] of Object.entries(fields ?? {})) {
      if (!field.secret || Object.hasOwn(raw, key)) continue;
      if (!ctx.io.stdin.isTTY) {
        throw new CliError(`field '${key}' is secret and was not given`, [
          "run this on a terminal to be prompted for it without echo, or pass it as key=value",
        ]);
      }
      const label = `${key}${field.description ? ` (${field.description})` : ""}${field.required === false ? " (optional, Enter to skip)" : " (required)"}`;
      const answer = await promptSecret(ctx.io.stdin, ctx.io.stderr, label);
      if (answer === "" && field.required === false) continue;
      values[key] = coerceField(answer, field, `field '${key}'`);
    }
    const res = await client.submitInput(runId, nodeId, values);
    output(ctx, opts, res, () => `submitted ${nodeId} of ${runId}`);
  });

  const approvals = program.command("approvals").description("human steps waiting for someone");
  withJson(withPaging(approvals.command("list").description("list pending approvals and inputs"))).action(
    async (opts: PageOptions) => {
      const client = await ctx.client();
      const page = await client.listApprovals({ status: "pending", limit: opts.limit, cursor: opts.cursor });
      output(ctx, opts, page, () =>
        page.items.length === 0 ? "nothing is waiting" : renderApprovalList(page.items, ctx.io.now()),
      );
      if (!opts.json) pageFooter(ctx, page.nextCursor);
    },
  );
}
