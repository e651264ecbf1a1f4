/**
 * `npm run bench -- --json`: the benchmark as one JSON object, one entry per case, for scripts and CI to compare.
 * Pure, so test/bench/bench-smoke.test.ts checks the shape without running the engine.
 */
import type { CostEstimate, RunCounts, Summary } from "./stats.ts";

/** What one case measured, as bench/run.ts holds it. */
export interface CaseFigures {
  name: string;
  lane: string;
  engine: Summary;
  floor: Summary;
  engineRps: number;
  counts: RunCounts;
  cost: CostEstimate;
  failures: number;
  /** With --profile: SDK calls per run by client (bench/profile.ts). */
  profile?: Record<string, unknown> | null;
}

/** One case in the JSON output. */
export interface JsonCase {
  name: string;
  lane: string;
  /**
   * What the orchestration costs in AWS per million runs once triggered: everything but the tasks' own compute
   * (the trigger request is in dollarsPerMillionRunsWithTrigger).
   */
  dollarsPerMillionRuns: number;
  /** The tasks' own compute per million runs (the user's work, which any orchestrator running them there pays). */
  computeDollarsPerMillionRuns: number;
  dollarsPerMillionRunsWithTrigger: number;
  transitions: number;
  lambdaCalls: number;
  dynamoWrites: number;
  writeUnits: number;
  s3Puts: number;
  p50Ms: number;
  p95Ms: number;
  floorP50Ms: number;
  /** Engine p50 ÷ floor p50: how many times the spawn floor a run takes. */
  engineToFloorRatio: number;
  runsPerSecondAt8: number;
  runs: number;
  failedRuns: number;
  profile?: Record<string, unknown>;
}

export interface BenchJson {
  node: string;
  cpus: number;
  loadAverage: { start: number; end: number };
  concurrency: number;
  cases: JsonCase[];
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

/** The JSON object of a benchmark run. */
export function benchJson(
  cases: readonly CaseFigures[],
  meta: Omit<BenchJson, "cases" | "concurrency">,
  concurrency: number,
): BenchJson {
  return {
    ...meta,
    concurrency,
    cases: cases.map((c) => ({
      name: c.name,
      lane: c.lane,
      dollarsPerMillionRuns: round(c.cost.engineTotal, 2),
      dollarsPerMillionRunsWithTrigger: round(c.cost.withTrigger, 2),
      computeDollarsPerMillionRuns: round(c.cost.computeTotal, 2),
      transitions: round(c.counts.transitions, 2),
      lambdaCalls: round(c.counts.handlerCalls, 2),
      dynamoWrites: round(c.counts.dynamoWrites, 2),
      writeUnits: round(c.counts.writeUnits, 2),
      s3Puts: round(c.counts.s3Puts, 2),
      p50Ms: round(c.engine.p50, 1),
      p95Ms: round(c.engine.p95, 1),
      floorP50Ms: round(c.floor.p50, 1),
      engineToFloorRatio: round(c.engine.p50 / c.floor.p50, 2),
      runsPerSecondAt8: round(c.engineRps, 2),
      runs: c.engine.n,
      failedRuns: c.failures,
      ...(c.profile ? { profile: c.profile } : {}),
    })),
  };
}
