/**
 * Pure helpers of the benchmark: percentiles, the DAG's critical path, AWS list prices and the cost of a run,
 * and a plain-text table. Kept free of I/O so test/bench/bench-smoke.test.ts can check them without timing anything.
 */

/** The p-th percentile (0 < p ≤ 100) by the nearest-rank method: a value that was actually observed. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error("percentile of no samples");
  if (!(p > 0 && p <= 100)) throw new Error(`percentile ${p} is outside (0, 100]`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

/** Count, p50, p95, mean, min and max of a sample. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("summary of no samples");
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/**
 * The number of runs of the throughput batch: 4 rounds of `concurrency` for the default 50 latency runs (32 at
 * concurrency 8, which keeps the whole benchmark near 3 minutes on 2 cores), scaled with BENCH_RUNS.
 */
export function throughputBatchSize(latencyRuns: number, concurrency: number): number {
  return Math.max(1, Math.round((latencyRuns * 4) / 50)) * concurrency;
}

/** Reads BENCH_RUNS: a whole number ≥ 1, or the default when unset or empty. */
export function parseRunCount(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_RUNS must be a whole number ≥ 1, got '${raw}'`);
  return n;
}

export interface DagNode {
  id: string;
  needs?: readonly string[];
}

/** The longest chain of durations through the DAG: what a run would take with no overhead at all. */
export function criticalPathMs(nodes: readonly DagNode[], durationMs: ReadonlyMap<string, number>): number {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const finish = new Map<string, number>();
  const visiting = new Set<string>();
  const finishOf = (id: string): number => {
    const known = finish.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) throw new Error(`cycle through '${id}'`);
    visiting.add(id);
    const node = byId.get(id);
    if (!node) throw new Error(`unknown node '${id}'`);
    const start = Math.max(0, ...(node.needs ?? []).map(finishOf));
    const end = start + (durationMs.get(id) ?? 0);
    visiting.delete(id);
    finish.set(id, end);
    return end;
  };
  return Math.max(0, ...nodes.map((n) => finishOf(n.id)));
}

/**
 * AWS list prices, us-east-1, on-demand, without free tiers. Sources:
 * - Step Functions Standard: https://aws.amazon.com/step-functions/pricing/ ($0.025 per 1,000 state transitions)
 * - Lambda: https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests; arm64 $0.0000133334 per GB-second,
 *   first pricing tier)
 * - DynamoDB on-demand: https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per million write request units,
 *   $0.125 per million read request units, Standard table class, after the November 2024 price cut)
 * - S3 Standard: https://aws.amazon.com/s3/pricing/ ($0.005 per 1,000 PUT, COPY, POST, LIST requests)
 * - API Gateway HTTP APIs: https://aws.amazon.com/api-gateway/pricing/ ($1.00 per million requests, first 300M)
 * - Step Functions Express: https://aws.amazon.com/step-functions/pricing/ ($1.00 per million requests; duration
 *   $0.00001667 per GB-second, first 1,000 GB-hours, billed in 100 ms steps at 64 MB steps of memory)
 */
export const PRICES = {
  asOf: "2025-01-31",
  region: "us-east-1",
  stepFunctionsPerTransition: 0.025 / 1000,
  lambdaPerRequest: 0.2 / 1_000_000,
  lambdaPerGbSecondArm64: 0.0000133334,
  dynamoPerWriteUnit: 0.625 / 1_000_000,
  dynamoPerReadUnit: 0.125 / 1_000_000,
  s3PerPut: 0.005 / 1000,
  httpApiPerRequest: 1.0 / 1_000_000,
  expressPerRequest: 1.0 / 1_000_000,
  expressPerGbSecond: 0.00001667,
} as const;

/**
 * Fargate list prices, us-east-1, Linux/x86 (Stepwise's task definitions name no CPU architecture): billed per
 * second with a one-minute minimum (https://aws.amazon.com/fargate/pricing/). RunTask and DescribeTasks themselves
 * are free API calls; they are counted because each started task is billed and DescribeTasks is throttled.
 */
export const FARGATE_PRICES = { perVcpuHour: 0.04048, perGbHour: 0.004445, minimumSeconds: 60 } as const;

/**
 * What one container node adds to a Standard run besides its task (a model of the run machine, not a measurement):
 * Advance starts the task and hands the run to AwaitHuman's task-token wait (Route → AwaitHuman), the STOPPED event
 * calls ContainerStopped, which resumes the execution into Advance and Route again: 3 transitions and 3 Lambda
 * requests (AwaitHuman, ContainerStopped, Advance). DescribeTasks is called only when the event never came (a
 * timeout or a lost event), so none in the common case. Container nodes that run side by side share the wait.
 */
export const CONTAINER_NODE_EXTRAS = { transitions: 3, handlerCalls: 3, ecsRunTasks: 1, ecsDescribeTasks: 0 } as const;

/** Fargate dollars of one task of `seconds` at a size (billed at least the minimum). */
export function fargateTaskDollars(seconds: number, size: { vcpu: number; memoryGb: number }): number {
  const billed = Math.max(FARGATE_PRICES.minimumSeconds, Math.ceil(seconds));
  return (billed / 3600) * (size.vcpu * FARGATE_PRICES.perVcpuHour + size.memoryGb * FARGATE_PRICES.perGbHour);
}

/**
 * What `nodes` container nodes (one after another) add per run, per million runs: the extra transitions and Lambda
 * requests of the wait, the RunTask and DescribeTasks calls, and the Fargate task itself (default the smallest size
 * Stepwise registers: 0.25 vCPU and 1 GB, the user's 512 MiB plus the two stage containers).
 */
export function containerNodeCost(opts: {
  nodes: number;
  taskSeconds: number;
  size?: { vcpu: number; memoryGb: number };
}): CostLine[] {
  const { nodes, taskSeconds } = opts;
  const size = opts.size ?? { vcpu: 0.25, memoryGb: 1 };
  const million = 1_000_000;
  const x = CONTAINER_NODE_EXTRAS;
  return [
    {
      item: "container: extra Step Functions state transitions",
      perRun: nodes * x.transitions,
      dollarsPerMillionRuns: nodes * x.transitions * PRICES.stepFunctionsPerTransition * million,
    },
    {
      item: "container: extra Lambda requests",
      perRun: nodes * x.handlerCalls,
      dollarsPerMillionRuns: nodes * x.handlerCalls * PRICES.lambdaPerRequest * million,
    },
    { item: "container: ECS RunTask requests", perRun: nodes * x.ecsRunTasks, dollarsPerMillionRuns: 0 },
    { item: "container: ECS DescribeTasks requests", perRun: nodes * x.ecsDescribeTasks, dollarsPerMillionRuns: 0 },
    {
      item: `container: Fargate task (${size.vcpu} vCPU, ${size.memoryGb} GB, ≥ ${FARGATE_PRICES.minimumSeconds} s)`,
      perRun: nodes,
      dollarsPerMillionRuns: nodes * fargateTaskDollars(taskSeconds, size) * million,
    },
  ];
}

/** Memory an Express execution of the run machine is billed at: the smallest step, as it carries ids only. */
export const EXPRESS_MEMORY_MB = 64;

/** Express bills duration in steps of 100 ms, rounded up: the billed seconds of one execution of `ms`. */
export function expressBilledSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 100)) / 10;
}

export { type AttributeValue, attributeValueBytes, dynamoItemBytes, writeUnits } from "./item-size.ts";

/** Memory of the functions as the CDK stack configures them (infra/stepwise-stack.ts). */
export const LAMBDA_MEMORY_MB = { advance: 1024, api: 512 } as const;

/** What the CostMeter counts, plus write units by item size, per run (averages, so possibly fractional). */
export interface RunCounts {
  transitions: number;
  handlerCalls: number;
  dynamoWrites: number;
  /** Write request units, estimated from the size of each item written. */
  writeUnits: number;
  s3Puts: number;
}

/** ECS tasks started (container attempts in the cloud) and DescribeTasks calls, when the meter counted them. */
export interface EcsCounts {
  ecsRunTasks?: number;
  ecsDescribeTasks?: number;
}

export interface CostLine {
  item: string;
  /** Quantity per run, in the unit the item names. */
  perRun: number;
  dollarsPerMillionRuns: number;
}

export interface CostEstimate {
  lines: CostLine[];
  /** Dollars per million runs of what the engine does once a run is triggered (the tasks' own compute excluded). */
  engineTotal: number;
  /** Dollars per million runs of the tasks' own compute: the user's work, paid wherever the tasks run. */
  computeTotal: number;
  /** The same plus the trigger request through API Gateway and the API Lambda. */
  withTrigger: number;
}

/** Per-run counts of the engine. */
export function countsPerRun(
  before: RunCounts & EcsCounts,
  after: RunCounts & EcsCounts,
  runs: number,
): RunCounts & EcsCounts {
  if (runs <= 0) throw new Error("countsPerRun needs at least one run");
  return {
    transitions: (after.transitions - before.transitions) / runs,
    handlerCalls: (after.handlerCalls - before.handlerCalls) / runs,
    dynamoWrites: (after.dynamoWrites - before.dynamoWrites) / runs,
    writeUnits: (after.writeUnits - before.writeUnits) / runs,
    s3Puts: (after.s3Puts - before.s3Puts) / runs,
    ...(after.ecsRunTasks === undefined
      ? {}
      : {
          ecsRunTasks: (after.ecsRunTasks - (before.ecsRunTasks ?? 0)) / runs,
          ecsDescribeTasks: ((after.ecsDescribeTasks ?? 0) - (before.ecsDescribeTasks ?? 0)) / runs,
        }),
  };
}

export interface CostInputs {
  /** Billed seconds of the engine handlers per run, at the Advance function's memory (an estimate). */
  advanceSeconds: number;
  /**
   * The tasks' own run time per run (the spawn floor's time for the same tasks), part of advanceSeconds: priced
   * as the tasks' compute (the user's work), not the engine's. Default 0.
   */
  taskSeconds?: number;
  /** Billed seconds of the API Lambda for the trigger request. */
  triggerSeconds: number;
  /** Price DynamoDB by `writeUnits` (item sizes known) rather than 1 WRU per write request. */
  writeUnitsBySize: boolean;
  /** The Step Functions lane: Standard bills transitions, Express a request and its duration. Default standard. */
  lane?: "standard" | "express";
  /** Billed seconds of the Express execution per run (see expressBilledSeconds); ignored on Standard. */
  expressSeconds?: number;
  /** Seconds each ECS task runs, for its Fargate price (default the one-minute minimum). */
  fargateTaskSeconds?: number;
}

/**
 * Dollars per million runs at PRICES. DynamoDB writes are priced by write units by item size when known, else as
 * 1 WRU per write (exact for items ≤ 1 KB; a larger item costs one WRU per started KB). Reads are not counted.
 */
export function estimateCost(counts: RunCounts & EcsCounts, inputs: CostInputs): CostEstimate {
  const { advanceSeconds, triggerSeconds } = inputs;
  const wru = inputs.writeUnitsBySize ? counts.writeUnits : counts.dynamoWrites;
  const million = 1_000_000;
  // The engine's own Lambda time: the measured run time less the tasks' own (floored at 0).
  const taskSeconds = Math.min(Math.max(0, inputs.taskSeconds ?? 0), Math.max(0, advanceSeconds));
  const advanceGbSeconds = (Math.max(0, advanceSeconds) - taskSeconds) * (LAMBDA_MEMORY_MB.advance / 1024);
  const taskGbSeconds = taskSeconds * (LAMBDA_MEMORY_MB.advance / 1024);
  const triggerGbSeconds = triggerSeconds * (LAMBDA_MEMORY_MB.api / 1024);
  const express = inputs.lane === "express";
  const expressGbSeconds = express ? (inputs.expressSeconds ?? 0) * (EXPRESS_MEMORY_MB / 1024) : 0;
  // Every lane lists the same lines (zero where they do not apply), so the report's columns line up.
  const engine: CostLine[] = [
    {
      item: express ? "Step Functions state transitions (not billed on Express)" : "Step Functions state transitions",
      perRun: counts.transitions,
      dollarsPerMillionRuns: express ? 0 : counts.transitions * PRICES.stepFunctionsPerTransition * million,
    },
    {
      item: "Step Functions Express requests",
      perRun: express ? 1 : 0,
      dollarsPerMillionRuns: express ? PRICES.expressPerRequest * million : 0,
    },
    {
      item: `Step Functions Express GB-s (${EXPRESS_MEMORY_MB} MB)`,
      perRun: expressGbSeconds,
      dollarsPerMillionRuns: expressGbSeconds * PRICES.expressPerGbSecond * million,
    },
    {
      item: "Lambda requests (engine handlers)",
      perRun: counts.handlerCalls,
      dollarsPerMillionRuns: counts.handlerCalls * PRICES.lambdaPerRequest * million,
    },
    {
      item: `Lambda GB-s (${LAMBDA_MEMORY_MB.advance} MB arm64, the engine's own time, est.)`,
      perRun: advanceGbSeconds,
      dollarsPerMillionRuns: advanceGbSeconds * PRICES.lambdaPerGbSecondArm64 * million,
    },
    {
      item: inputs.writeUnitsBySize ? "DynamoDB WRUs (by item size, est.)" : "DynamoDB WRUs (1 per write)",
      perRun: wru,
      dollarsPerMillionRuns: wru * PRICES.dynamoPerWriteUnit * million,
    },
    {
      item: "S3 PUT requests",
      perRun: counts.s3Puts,
      dollarsPerMillionRuns: counts.s3Puts * PRICES.s3PerPut * million,
    },
  ];
  // Counted ECS tasks (a cloud measurement): the API calls are free, each task is billed by Fargate.
  if (counts.ecsRunTasks !== undefined) {
    const taskDollars = fargateTaskDollars(inputs.fargateTaskSeconds ?? 0, { vcpu: 0.25, memoryGb: 1 });
    engine.push(
      { item: "ECS RunTask requests", perRun: counts.ecsRunTasks, dollarsPerMillionRuns: 0 },
      { item: "ECS DescribeTasks requests", perRun: counts.ecsDescribeTasks ?? 0, dollarsPerMillionRuns: 0 },
      {
        item: "Fargate tasks (0.25 vCPU, 1 GB, est.)",
        perRun: counts.ecsRunTasks,
        dollarsPerMillionRuns: counts.ecsRunTasks * taskDollars * million,
      },
    );
  }
  const engineTotal = engine.reduce((sum, l) => sum + l.dollarsPerMillionRuns, 0);
  const trigger: CostLine = {
    item: `trigger: HTTP API + API Lambda (${LAMBDA_MEMORY_MB.api} MB)`,
    perRun: 1,
    dollarsPerMillionRuns:
      (PRICES.httpApiPerRequest + PRICES.lambdaPerRequest + triggerGbSeconds * PRICES.lambdaPerGbSecondArm64) * million,
  };
  const compute: CostLine = {
    item: `tasks' own compute: Lambda GB-s (${LAMBDA_MEMORY_MB.advance} MB arm64, the user's work, not in the totals)`,
    perRun: taskGbSeconds,
    dollarsPerMillionRuns: taskGbSeconds * PRICES.lambdaPerGbSecondArm64 * million,
  };
  return {
    lines: [...engine, trigger, compute],
    engineTotal,
    withTrigger: engineTotal + trigger.dollarsPerMillionRuns,
    computeTotal: compute.dollarsPerMillionRuns,
  };
}

/** Renders rows as an aligned plain-text table; a column whose cells are all numbers is right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = /^[-+~$]?[\d.,/]+(\s?[a-z%×/]+)?$|^[-–]$/i;
  const right = headers.map((_, i) => i > 0 && rows.every((r) => (r[i] ?? "") === "" || numeric.test(r[i] ?? "")));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

/** A number with a fixed count of decimals (and thousands separators) for the tables. */
export function fmt(n: number, decimals = 1): string {
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
