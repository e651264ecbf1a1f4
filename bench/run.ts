/**
 * `npm run bench`: drives the embedded stack over its HTTP API with two workflows (a 10-node diamond of commands and
 * a chain of 10 scripts) and prints, next to the floor of spawning the same processes directly: trigger-to-terminal
 * latency, throughput at concurrency 8, what each run costs in billable AWS requests and dollars, and where the time
 * goes. Then the run-file figures from bench/hashing.ts: hash + upload, download + verify, against SHA-256.
 * `npm run bench:compare` (bench/compare.ts) measures the embedded engine's old and new paths side by side.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbedded } from "../local/embedded.ts";
import { measureCliStartup, startupLines } from "./cli-startup.ts";
import { Api } from "./engine-api.ts";
import { type Floor, prepareFloor } from "./floor.ts";
import { benchJson } from "./json-report.ts";
import { type CaseResult, measureCase } from "./measure-case.ts";
import { SdkProfiler } from "./profile.ts";
import { hashingLine, report } from "./report.ts";
import { CLI_STARTUP_RUNS, CONCURRENCY, JSON_OUT, LOAD_AT_START, PROFILE, SELECTED } from "./settings.ts";
import { fmt } from "./stats.ts";
import { WriteUnitCounter } from "./write-units.ts";

async function main(): Promise<void> {
  const started = performance.now();
  const dataDir = await mkdtemp(join(tmpdir(), "stepwise-bench-"));
  const apiKey = `bench-${crypto.randomUUID()}`;
  process.stderr.write(`starting the embedded stack in ${dataDir}\n`);
  const stack = await startEmbedded({ dataDir, port: 0, apiKey, examplesDir: null });
  const floors: Floor[] = [];
  try {
    const api = new Api(stack.url, apiKey);
    for (const bc of SELECTED) await api.call("PUT", `/api/workflows/${bc.workflow.name}`, bc.workflow);
    const wru = new WriteUnitCounter();
    wru.install(stack);
    let profiler: SdkProfiler | null = null;
    if (PROFILE) {
      profiler = new SdkProfiler();
      profiler.install("dynamodb", stack.sdkClients.dynamodb);
      profiler.install("s3", stack.sdkClients.s3);
    }
    const results: CaseResult[] = [];
    for (const bc of SELECTED) {
      const floor = await prepareFloor(bc.workflow);
      floors.push(floor);
      results.push(await measureCase(api, stack, bc, floor, wru, profiler));
    }
    process.stderr.write("  hashing\n");
    const hashing = await hashingLine();
    // With --json the report still prints, on stderr, so stdout is the JSON object alone.
    const human = JSON_OUT ? process.stderr : process.stdout;
    process.stderr.write("  CLI start-up\n");
    const startup = startupLines(measureCliStartup(CLI_STARTUP_RUNS)).join("\n");
    human.write(`\n${report(results)}\n\n${hashing}\n\n${startup}\n`);
    human.write(`\nbenchmark took ${fmt((performance.now() - started) / 1000, 1)} s\n`);
    if (JSON_OUT) {
      const figures = results.map((r) => ({
        name: r.bc.label,
        lane: r.lane,
        engine: r.engine,
        floor: r.floor,
        engineRps: r.engineRps,
        counts: r.counts,
        cost: r.cost,
        failures: r.failures.length,
        profile: r.profile,
      }));
      const meta = {
        node: process.version,
        cpus: availableParallelism(),
        loadAverage: { start: LOAD_AT_START, end: loadavg()[0] ?? 0 },
      };
      process.stdout.write(`${JSON.stringify(benchJson(figures, meta, CONCURRENCY), null, 2)}\n`);
    }
  } finally {
    await stack.stop();
    for (const f of floors) await f.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
