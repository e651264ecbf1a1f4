import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { BundleReport } from "../shared/evidence/bundle.ts";
import type { RunComparison } from "../shared/evidence/compare.ts";
import type { VerifyReport } from "../shared/evidence/verify.ts";
import { type JsonOption, withJson } from "./commands/options.ts";
import type { Context } from "./context.ts";
import { CliError } from "./errors.ts";
import { exportBundle } from "./export-command.ts";
import { paint, renderKeyValues, renderTable } from "./format.ts";

const seg = encodeURIComponent;

/** The human form of a verify report. */
export function renderVerifyReport(r: VerifyReport | BundleReport, source: string, color: boolean): string[] {
  const head = r.valid ? paint("✓ valid", "green", color) : paint("✗ INVALID", "red", color);
  const rootLine = r.sealedRoot && r.root !== r.sealedRoot ? `${r.root} (sealed: ${r.sealedRoot})` : (r.root ?? "-");
  const lines = [
    `${head}  ${r.runId ?? "(unknown run)"}`,
    ...renderKeyValues([
      ["source", source],
      ["root", rootLine],
      ["sealed", r.sealed ? "yes" : "no (the run has not ended)"],
      [
        "checked",
        `${r.checked.auditEvents} audit events, ${r.checked.tasks} tasks, ${r.checked.files} files, ${r.checked.logs} logs`,
      ],
      ["after seal", r.eventsAfterSeal ? `${r.eventsAfterSeal} audit event(s), covered by the chain` : undefined],
    ]),
  ];
  if (r.problems.length) lines.push("problems:", ...r.problems.map((p) => `  - ${p}`));
  return lines;
}

/** The human form of a run comparison. */
export function renderComparison(c: RunComparison, color: boolean): string[] {
  const same = (ok: boolean) => (ok ? "same" : paint("differs", "yellow", color));
  const lines = [
    ...renderKeyValues([
      ["runs", `${c.runId} vs ${c.otherRunId}`],
      [
        "definition",
        c.definition.match ? `same (${c.definition.run})` : `differs (${c.definition.run} vs ${c.definition.other})`,
      ],
      ["parameters", c.parameters.match ? "same" : `differ: ${c.parameters.differs.map((d) => d.name).join(", ")}`],
    ]),
    "",
    ...renderTable(c.tasks, [
      { header: "node", value: (t) => t.nodeId },
      { header: "definition", value: (t) => same(t.definition.match) },
      { header: "inputs", value: (t) => same(t.inputs.match) },
      { header: "outputs", value: (t) => same(t.outputs.match && t.outputVariables.match) },
    ]),
  ];
  const diffs = c.tasks.filter((t) => t.differences.length);
  if (diffs.length) {
    lines.push("", "differences:");
    for (const t of diffs) for (const d of t.differences) lines.push(`  ${t.nodeId}: ${d}`);
  }
  lines.push("", c.identical ? paint(c.summary, "green", color) : paint(c.summary, "yellow", color));
  return lines;
}

/** `runs export`, `runs diff` and `verify`: the evidence commands. */
export function registerEvidenceCommands(program: Command, ctx: Context): void {
  const runs = program.commands.find((c) => c.name() === "runs") ?? program.command("runs");

  withJson(
    runs
      .command("export <runId>")
      .description("write the run's evidence bundle (manifest, records, files, logs) as a .tgz")
      .requiredOption("-o, --output <file>", "where to write the bundle, e.g. run.tgz")
      .option("--timeout <seconds>", "how long to wait for the server to build the bundle", "1200"),
  ).action(async (runId: string, opts: JsonOption & { output: string; timeout: string }) =>
    exportBundle(ctx, runId, opts.output, opts),
  );

  withJson(
    runs
      .command("diff <runId> <otherRunId>")
      .description("compare two runs task by task by hash (exit code 1 when they differ)"),
  ).action(async (runId: string, otherRunId: string, opts: JsonOption) => {
    const client = await ctx.client();
    const res = await client.request<RunComparison>("GET", `/api/runs/${seg(runId)}/compare/${seg(otherRunId)}`);
    if (opts.json) ctx.json(res.body);
    else ctx.print(renderComparison(res.body, ctx.color));
    if (!res.body.identical) ctx.exitCode = 1;
  });

  withJson(
    program
      .command("verify <bundleOrRunId>")
      .description("verify an exported bundle with no server, or a run on the server (exit code 1 when invalid)"),
  ).action(async (target: string, opts: JsonOption) => {
    let report: VerifyReport | BundleReport;
    let source: string;
    if (existsSync(resolve(ctx.io.cwd, target))) {
      source = `bundle ${target} (checked offline)`;
      try {
        // Loaded on use: the offline verifier is most of the CLI's code, and every other command starts without it.
        const { verifyBundle } = await import("../shared/evidence/bundle.ts");
        report = await verifyBundle(resolve(ctx.io.cwd, target));
      } catch (err) {
        throw new CliError(`${target} is not a readable evidence bundle: ${(err as Error).message}`);
      }
    } else if (/^run_[0-9A-Za-z]+$/.test(target)) {
      source = "the server's stored records and files";
      const client = await ctx.client();
      report = (await client.request<VerifyReport>("GET", `/api/runs/${seg(target)}/verify`)).body;
    } else {
      throw new CliError(`no such file: ${target}`, ["give a bundle written by `stepwise runs export`, or a run id"]);
    }
    if (opts.json) ctx.json(report);
    else ctx.print(renderVerifyReport(report, source, ctx.color));
    if (!report.valid) ctx.exitCode = 1;
  });
}
