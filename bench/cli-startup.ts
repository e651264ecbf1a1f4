/**
 * CLI start-up, measured side by side with a bare Node: `stepwise --help` (the built CLI, as bin/stepwise.js runs it)
 * against `node -e 0`, alternating the two so that both see the same machine load; medians of CLI_STARTUP_RUNS
 * (default 20) runs each. The goal (issue 10): within 4x of the bare Node.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { percentile } from "./stats.ts";

const BIN = fileURLToPath(new URL("../bin/stepwise.js", import.meta.url));
const BUNDLE = fileURLToPath(new URL("../cli/dist/stepwise.mjs", import.meta.url));

export interface StartupFigures {
  runs: number;
  cliMedianMs: number;
  nodeMedianMs: number;
  ratio: number;
}

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`node ${args.join(" ")} exited ${res.status}: ${res.stderr}`);
  return ms;
}

/** Medians of `stepwise --help` and `node -e 0`, interleaved. */
export function measureCliStartup(runs: number): StartupFigures {
  if (!existsSync(BUNDLE)) throw new Error("the CLI is not built: npm run build:cli");
  const cli: number[] = [];
  const bare: number[] = [];
  timeOnce(["-e", "0"]); // warm the file cache for both
  timeOnce([BIN, "--help"]);
  for (let i = 0; i < runs; i++) {
    bare.push(timeOnce(["-e", "0"]));
    cli.push(timeOnce([BIN, "--help"]));
  }
  const cliMedianMs = percentile(cli, 50);
  const nodeMedianMs = percentile(bare, 50);
  return { runs, cliMedianMs, nodeMedianMs, ratio: cliMedianMs / nodeMedianMs };
}

/** The report's lines. */
export function startupLines(f: StartupFigures): string[] {
  return [
    `CLI start-up (medians of ${f.runs} runs each, interleaved)`,
    `  stepwise --help  ${f.cliMedianMs.toFixed(1)} ms`,
    `  node -e 0        ${f.nodeMedianMs.toFixed(1)} ms`,
    `  ratio            ${f.ratio.toFixed(2)}x (goal: within 4x)`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.env.CLI_STARTUP_RUNS ?? 20);
  console.log(startupLines(measureCliStartup(runs)).join("\n"));
}
