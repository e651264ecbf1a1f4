import type { Command } from "commander";
import type { Context } from "../context.ts";
import { CliError } from "../errors.ts";
import { readNamedDocument } from "../files.ts";
import {
  formatStatus,
  formatTime,
  formatValue,
  layoutStepTree,
  renderKeyValues,
  renderTable,
  shortHash,
  treeLabel,
  truncate,
} from "../format.ts";
import { coerceParameters, parseAssignments } from "../params.ts";
import { waitForRun } from "../watch.ts";
import { collect, type JsonOption, output, type PageOptions, pageFooter, withJson, withPaging } from "./options.ts";

/** `workflow apply|list|get`. */
export function registerWorkflowCommands(program: Command, ctx: Context): void {
  const workflow = program.command("workflow").alias("workflows").description("define workflows");

  withJson(
    workflow
      .command("apply <file>")
      .description("create or update a workflow from a JSON or YAML definition (its name comes from the file)"),
  ).action(async (file: string, opts: JsonOption) => {
    const definition = await readNamedDocument(file, ctx.io.cwd);
    const client = await ctx.client();
    const res = await client.applyWorkflow(definition);
    output(ctx, opts, res.raw, () => {
      const verb = res.created ? "created" : "unchanged";
      return `${formatStatus(verb, ctx.color)} ${res.name} version ${res.version} ${res.definitionHash}`;
    });
  });

  withJson(withPaging(workflow.command("list").description("list workflows"))).action(async (opts: PageOptions) => {
    const client = await ctx.client();
    const page = await client.listWorkflows({ limit: opts.limit, cursor: opts.cursor });
    output(ctx, opts, page, () =>
      page.items.length === 0
        ? "no workflows yet: stepwise workflow apply <file>"
        : renderTable(page.items, [
            { header: "name", value: (w) => w.name },
            { header: "version", value: (w) => formatValue(w.version), align: "right" },
            { header: "hash", value: (w) => shortHash(w.definitionHash) },
            { header: "created", value: (w) => formatTime(w.createdAt) },
            { header: "description", value: (w) => truncate(w.description ?? "", 60) },
          ]),
    );
    if (!opts.json) pageFooter(ctx, page.nextCursor);
  });

  withJson(workflow.command("get <name>").description("show a workflow's latest version")).action(
    async (name: string, opts: JsonOption) => {
      const client = await ctx.client();
      const wf = await client.getWorkflow(name);
      output(ctx, opts, wf, () => {
        const def = wf.definition;
        const lines = renderKeyValues([
          ["name", wf.name],
          ["version", String(wf.version)],
          ["hash", wf.definitionHash],
          ["created", formatTime(wf.createdAt)],
          ["description", def?.description],
        ]);
        const params = Object.entries(def?.parameters ?? {});
        if (params.length) {
          lines.push(
            "",
            ...renderTable(params, [
              { header: "parameter", value: ([k]) => k },
              { header: "type", value: ([, p]) => p.type },
              { header: "required", value: ([, p]) => (p.required ? "yes" : "no") },
              { header: "default", value: ([, p]) => (p.default === undefined ? "-" : JSON.stringify(p.default)) },
              { header: "description", value: ([, p]) => truncate(p.description ?? "", 60) },
            ]),
          );
        }
        const nodes = def?.nodes ?? [];
        const types = new Map(nodes.map((n) => [n.id, n.type]));
        lines.push(
          "",
          ...renderTable(layoutStepTree(nodes), [
            { header: "node", value: (l) => treeLabel(l) },
            { header: "type", value: (l) => types.get(l.id) ?? "-" },
          ]),
        );
        return lines;
      });
    },
  );
}

interface RunOptions extends JsonOption {
  param: string[];
  wait?: boolean;
  idempotencyKey?: string;
}

/** `run <workflow> -p key=value … [--wait]`. */
export function registerRunCommand(program: Command, ctx: Context): void {
  withJson(
    program
      .command("run <workflow>")
      .description("start a run of a workflow")
      .option("-p, --param <key=value>", "a parameter, coerced by its declared type (repeatable)", collect, [])
      .option("--wait", "follow the run until it ends; exit 0 for succeeded or no_action, 1 otherwise")
      .option("--idempotency-key <key>", "the same key within 24 h returns the same run"),
  ).action(async (name: string, opts: RunOptions) => {
    const raw = parseAssignments(opts.param);
    const client = await ctx.client();
    const wf = await client.getWorkflow(name);
    const parameters = coerceParameters(raw, wf.definition?.parameters);
    const started = await client.triggerWorkflow(name, parameters, opts.idempotencyKey);
    if (!opts.wait) {
      output(ctx, opts, started, () => startedLine(ctx, started.runId, started.workflow, started.status));
      return;
    }
    if (!opts.json) ctx.print(startedLine(ctx, started.runId, started.workflow, started.status));
    const run = await waitForRun(ctx, client, started.runId, Boolean(opts.json), started.status);
    if (opts.json) ctx.json(run);
    ctx.exitCode = run.status === "succeeded" || run.status === "no_action" ? 0 : 1;
  });
}

/** `started run_… nightly-report version 3 queued`. */
export function startedLine(
  ctx: Context,
  runId: string,
  workflow: { name: string; version: number } | undefined,
  status: string,
): string {
  if (!runId) throw new CliError("the server did not return a run id");
  const wf = workflow ? ` ${workflow.name} version ${workflow.version}` : "";
  return `started ${runId}${wf} ${formatStatus(status, ctx.color)}`;
}
