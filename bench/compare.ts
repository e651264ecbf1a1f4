/**
 * `npm run bench:compare`: the embedded engine's old path (SDK over TCP to the emulators, tasks spawned by the
 * server) and its new path (in-process transport, tasks spawned by the helper process) side by side in one process
 * and one run, with the spawn floor. Sequential runs are interleaved (old, new, floor, rotating the order each round)
 * so load from elsewhere on the machine falls on all of them alike; medians and ratios are printed. `--all` adds the
 * two mixed paths (each change alone); `--json` prints one JSON object on stdout, the table on stderr.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedOptions, type EmbeddedStack, startEmbedded } from "../local/embedded.ts";
import { Api, batch, engineRun, settle } from "./engine-api.ts";
import { prepareFloor } from "./floor.ts";
import { CONCURRENCY, JSON_OUT, LATENCY_POLL_MS, SELECTED, THROUGHPUT_POLL_MS, WARMUP_RUNS } from "./settings.ts";
import { fmt, formatTable, parseRunCount, type Summary, summarize, throughputBatchSize } from "./stats.ts";

/** At least 30 sequential runs per path, the bar for a median; BENCH_RUNS to change it. */
const RUNS = parseRunCount(process.env.BENCH_RUNS, 30);
const THROUGHPUT_RUNS = throughputBatchSize(RUNS, CONCURRENCY);

interface Path {
  name: string;
  options: Pick<EmbeddedOptions, "emulatorTransport" | "taskSpawn">;
}

const OLD: Path = { name: "old (tcp, direct spawn)", options: { emulatorTransport: "tcp", taskSpawn: "direct" } };
const NEW: Path = {
  name: "new (in-process, helper)",
  options: { emulatorTransport: "in-process", taskSpawn: "helper" },
};
const MIXED: Path[] = [
  { name: "in-process, direct spawn", options: { emulatorTransport: "in-process", taskSpawn: "direct" } },
  { name: "tcp, helper", options: { emulatorTransport: "tcp", taskSpawn: "helper" } },
];
const PATHS = process.argv.includes("--all") ? [OLD, ...MIXED, NEW] : [OLD, NEW];

interface Side {
  name: string;
  latency: Summary;
  runsPerSecondAt8: number;
  failures: string[];
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0] ?? 0;
  const stacks: Array<{ path: Path; stack: EmbeddedStack; api: Api; dir: string }> = [];
  const log = (s: string) => process.stderr.write(`  ${s}\n`);
  try {
    for (const path of PATHS) {
      const dir = await mkdtemp(join(tmpdir(), "stepwise-compare-"));
      const apiKey = `bench-${crypto.randomUUID()}`;
      const stack = await startEmbedded({ dataDir: dir, port: 0, apiKey, examplesDir: null, ...path.options });
      stacks.push({ path, stack, api: new Api(stack.url, apiKey), dir });
    }
    const cases = [];
    for (const bc of SELECTED) {
      for (const s of stacks) await s.api.call("PUT", `/api/workflows/${bc.workflow.name}`, bc.workflow);
      const floor = await prepareFloor(bc.workflow);
      try {
        const samples = new Map<string, number[]>([
          ...stacks.map((s) => [s.path.name, []] as [string, number[]]),
          ["floor", []],
        ]);
        const failures = new Map<string, string[]>(stacks.map((s) => [s.path.name, []]));
        const engine = async (s: (typeof stacks)[number], record: boolean) => {
          const r = await engineRun(s.api, s.stack, bc, LATENCY_POLL_MS);
          if ("failed" in r) failures.get(s.path.name)?.push(r.failed);
          else if (record) samples.get(s.path.name)?.push(r.latencyMs);
          await settle(s.stack);
        };
        const floorRun = async (record: boolean) => {
          const t0 = performance.now();
          await floor.run();
          if (record) samples.get("floor")?.push(performance.now() - t0);
        };
        const steps = [...stacks.map((s) => (record: boolean) => engine(s, record)), floorRun];
        log(`${bc.label}: ${WARMUP_RUNS} warm-up rounds, then ${RUNS} interleaved rounds of ${steps.length} runs`);
        for (let i = 0; i < WARMUP_RUNS; i++) for (const step of steps) await step(false);
        for (let i = 0; i < RUNS; i++)
          for (let k = 0; k < steps.length; k++)
            await (steps[(i + k) % steps.length] as (r: boolean) => Promise<void>)(true);
        const sides: Side[] = [];
        for (const s of stacks) {
          log(`${bc.label}: ${THROUGHPUT_RUNS} runs at concurrency ${CONCURRENCY}, ${s.path.name}`);
          const wall = await batch(THROUGHPUT_RUNS, CONCURRENCY, async () => {
            const r = await engineRun(s.api, s.stack, bc, THROUGHPUT_POLL_MS);
            if ("failed" in r) failures.get(s.path.name)?.push(r.failed);
          });
          await settle(s.stack);
          const xs = samples.get(s.path.name) ?? [];
          if (xs.length === 0)
            throw new Error(`${s.path.name}: every run failed: ${failures.get(s.path.name)?.join("; ")}`);
          sides.push({
            name: s.path.name,
            latency: summarize(xs),
            runsPerSecondAt8: THROUGHPUT_RUNS / (wall / 1000),
            failures: failures.get(s.path.name) ?? [],
          });
        }
        log(`${bc.label}: ${THROUGHPUT_RUNS} floor runs at concurrency ${CONCURRENCY}`);
        const floorWall = await batch(THROUGHPUT_RUNS, CONCURRENCY, () => floor.run());
        sides.push({
          name: "floor",
          latency: summarize(samples.get("floor") ?? []),
          runsPerSecondAt8: THROUGHPUT_RUNS / (floorWall / 1000),
          failures: [],
        });
        cases.push({ name: bc.label, sides });
      } finally {
        await floor.close();
      }
    }
    const loadEnd = loadavg()[0] ?? 0;
    const human = JSON_OUT ? process.stderr : process.stdout;
    human.write(`\n${table(cases, loadStart, loadEnd)}\n`);
    if (JSON_OUT) {
      const round = (n: number) => Number(n.toFixed(2));
      const json = {
        node: process.version,
        cpus: availableParallelism(),
        loadAverage: { start: loadStart, end: loadEnd },
        runs: RUNS,
        concurrency: CONCURRENCY,
        cases: cases.map((c) => {
          const floor = c.sides.find((s) => s.name === "floor");
          return {
            name: c.name,
            paths: c.sides.map((s) => ({
              name: s.name,
              p50Ms: round(s.latency.p50),
              p95Ms: round(s.latency.p95),
              toFloorP50: floor ? round(s.latency.p50 / floor.latency.p50) : null,
              runsPerSecondAt8: round(s.runsPerSecondAt8),
              runs: s.latency.n,
              failedRuns: s.failures.length,
            })),
          };
        }),
      };
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    }
  } finally {
    for (const s of stacks) {
      await s.stack.stop();
      await rm(s.dir, { recursive: true, force: true });
    }
  }
}

function table(cases: Array<{ name: string; sides: Side[] }>, loadStart: number, loadEnd: number): string {
  const out = [
    `Embedded engine, old path against new, side by side · node ${process.version} · ${availableParallelism()} CPU ` +
      `(${cpus()[0]?.model.trim() ?? "?"}) · 1-min load average ${loadStart.toFixed(2)} at start, ` +
      `${loadEnd.toFixed(2)} at end (other work on the machine slows every figure; the ratios are what compare)`,
    `${RUNS} sequential runs per path, interleaved round by round with the floor; ${THROUGHPUT_RUNS} runs at ` +
      `concurrency ${CONCURRENCY} per path for throughput.`,
    "",
  ];
  const rows: string[][] = [];
  for (const c of cases) {
    const floor = c.sides.find((s) => s.name === "floor");
    const old = c.sides.find((s) => s.name === OLD.name);
    for (const s of c.sides) {
      rows.push([
        s === c.sides[0] ? c.name : "",
        s.name,
        `${s.latency.n}`,
        fmt(s.latency.p50, 1),
        fmt(s.latency.p95, 1),
        floor ? `${fmt(s.latency.p50 / floor.latency.p50, 2)}×` : "",
        old && s.name !== "floor" ? `${fmt(s.latency.p50 / old.latency.p50, 2)}×` : "",
        fmt(s.runsPerSecondAt8, 2),
        s.failures.length ? `${s.failures.length} failed` : "",
      ]);
    }
  }
  out.push(
    formatTable(
      ["workflow", "path", "runs", "p50 ms", "p95 ms", "p50/floor", "p50/old", `runs/s @${CONCURRENCY}`, ""],
      rows,
    ),
  );
  for (const c of cases) for (const s of c.sides) for (const f of s.failures) out.push(`  ${c.name} · ${s.name}: ${f}`);
  return out.join("\n");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`comparison failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
