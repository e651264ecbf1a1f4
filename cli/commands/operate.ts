import type { Command } from "commander";
import { checkDefinition } from "../../shared/domain/static-checks.ts";
import type { ApiClient } from "../api-client.ts";
import type { Context } from "../context.ts";
import { CliError } from "../errors.ts";
import { readNamedDocument } from "../files.ts";
import { formatStatus, TERMINAL_RUN_STATUSES } from "../format.ts";
import { waitForRun } from "../watch.ts";
import { collect, type JsonOption, output, withJson } from "./options.ts";

/** Prints a run's log lines as they come, until the run has ended and its last lines are out. */
export async function followLogs(ctx: Context, client: ApiClient, runId: string, node?: string): Promise<void> {
  let printed = "";
  for (;;) {
    // Read the status first: lines written before the run ended are then in the read that follows.
    const status = (await client.getRun(runId)).status;
    const text = await client.getLogs(runId, node);
    // The log only grows while a run goes (a retried node adds its attempt's lines after the earlier ones).
    const fresh = text.startsWith(printed) ? text.slice(printed.length) : text;
    if (fresh) ctx.io.stdout.write(fresh);
    printed = text;
    if (TERMINAL_RUN_STATUSES.includes(status)) return;
    await ctx.io.sleep(ctx.io.pollMs);
  }
}

const command = (program: Command, name: string): Command => {
  const found = program.commands.find((c) => c.name() === name);
  if (!found) throw new Error(`no '${name}' command to extend`);
  return found;
};

const exitFor = (status: string) => (status === "succeeded" || status === "no_action" ? 0 : 1);

/**
 * Operating runs: `runs restart`, `runs watch`, `workflow validate`, `workflow archive` and `jobs archive`,
 * added to the command groups the other modules registered.
 */
export function registerOperateCommands(program: Command, ctx: Context): void {
  const runs = command(program, "runs");
  withJson(
    runs
      .command("restart <runId>")
      .description("start a new run from the failed step: nodes that succeeded are carried over, not run again")
      .option("--from <nodeId>", "run this node and everything after it again (repeatable)", collect, [])
      .option("--latest", "use the workflow's latest version (nodes whose definition changed run again)")
      .option("--wait", "follow the new run until it ends"),
  ).action(async (runId: string, opts: JsonOption & { from: string[]; latest?: boolean; wait?: boolean }) => {
    const client = await ctx.client();
    const res = await client.restart(runId, {
      ...(opts.from.length ? { from: opts.from } : {}),
      ...(opts.latest ? { definition: "latest" as const } : {}),
    });
    const lines = [
      `${formatStatus("restarted", ctx.color)} ${runId} as ${res.runId}`,
      `  runs again:  ${res.rerun.join(", ") || "-"}`,
      `  carried over: ${res.reused.join(", ") || "-"}`,
    ];
    if (!opts.wait) {
      output(ctx, opts, res, () => lines);
      return;
    }
    if (!opts.json) ctx.print(lines);
    const run = await waitForRun(ctx, client, res.runId, Boolean(opts.json), res.status);
    if (opts.json) ctx.json(run);
    ctx.exitCode = exitFor(run.status);
  });

  withJson(
    runs.command("watch <runId>").description("follow a run until it ends (re-attach to a run started with --wait)"),
  ).action(async (runId: string, opts: JsonOption) => {
    const client = await ctx.client();
    const run = await waitForRun(ctx, client, runId, Boolean(opts.json));
    if (opts.json) ctx.json(run);
    ctx.exitCode = exitFor(run.status);
  });

  const workflow = command(program, "workflow");
  withJson(
    workflow
      .command("validate <file>")
      .description("run every static check on a definition file at once, without applying it"),
  ).action(async (file: string, opts: JsonOption) => {
    const definition = await readNamedDocument(file, ctx.io.cwd);
    const problems = checkDefinition(definition);
    if (opts.json) ctx.json({ valid: problems.length === 0, problems });
    else if (problems.length === 0) ctx.print(`${formatStatus("valid", ctx.color)} ${definition.name}`);
    if (problems.length && !opts.json)
      throw new CliError(
        `${file}: ${problems.length} problem${problems.length > 1 ? "s" : ""}`,
        problems.map((p) => (p.path && !p.message.includes(p.path) ? `${p.path}: ${p.message}` : p.message)),
      );
    if (problems.length) ctx.exitCode = 1;
  });

  withJson(
    workflow
      .command("archive <name>")
      .description("archive a workflow: hidden from lists, not triggerable by name; runs stay readable"),
  ).action(async (name: string, opts: JsonOption) => {
    const client = await ctx.client();
    await client.archiveWorkflow(name);
    output(ctx, opts, { name, archived: true }, () => `${formatStatus("archived", ctx.color)} workflow ${name}`);
  });

  withJson(
    command(program, "jobs")
      .command("archive <name>")
      .description("archive a job: hidden from lists and cannot be run; job runs stay readable"),
  ).action(async (name: string, opts: JsonOption) => {
    const client = await ctx.client();
    await client.archiveJob(name);
    output(ctx, opts, { name, archived: true }, () => `${formatStatus("archived", ctx.color)} job ${name}`);
  });
}
