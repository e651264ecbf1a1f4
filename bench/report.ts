/** The benchmark's human-readable report: latency against the floor, where the time goes, counts and cost. */
import { availableParallelism, cpus, loadavg } from "node:os";
import { benchHashing } from "./hashing.ts";
import type { CaseResult } from "./measure-case.ts";
import {
  CONCURRENCY,
  HASH_MIB,
  LATENCY_POLL_MS,
  LOAD_AT_START,
  RUNS,
  THROUGHPUT_POLL_MS,
  THROUGHPUT_RUNS,
  WARMUP_RUNS,
} from "./settings.ts";
import { fmt, formatTable, LAMBDA_MEMORY_MB, PRICES, type RunCounts, type Summary } from "./stats.ts";

/** Run files: the engine's upload and download paths against this machine's SHA-256 floor (bench/hashing.ts). */
export async function hashingLine(): Promise<string> {
  const r = await benchHashing(HASH_MIB);
  const row = (what: string, v: number) => [what, fmt(v, 0), `${fmt(v / r.floorMBps, 2)}×`];
  const rows = [
    row("engine: hash + upload to S3 (one streaming pass)", r.engineMBps),
    row("engine: download from S3 + verify the hash", r.downloadMBps),
    row("engine: hashing stream only", r.hashPathMBps),
    ["floor: node:crypto SHA-256 read loop", fmt(r.floorMBps, 0), "1.00×"],
  ];
  return (
    `${formatTable(["hashing (bench/hashing.ts)", "MB/s", "vs floor"], rows)}\n` +
    `(a ${r.sizeMiB} MiB file, BENCH_HASH_MIB to change it; peak RSS growth ${fmt(r.peakRssGrowthMiB, 1)} MiB ` +
    `uploading, ${fmt(r.downloadPeakRssGrowthMiB, 1)} MiB downloading, the in-process S3 emulator included)`
  );
}

export function report(results: CaseResult[]): string {
  const out: string[] = [];
  const ms = (n: number) => fmt(n, 1);
  out.push(
    `Stepwise benchmark · embedded mode over HTTP · node ${process.version} · ${availableParallelism()} CPU ` +
      `(${cpus()[0]?.model.trim() ?? "?"}) · 1-min load average ${LOAD_AT_START.toFixed(2)} at start, ` +
      `${(loadavg()[0] ?? 0).toFixed(2)} at end (other work on the machine skews every figure)`,
    `${RUNS} sequential runs per latency figure (after ${WARMUP_RUNS} warm-up runs); ${THROUGHPUT_RUNS} runs at ` +
      `concurrency ${CONCURRENCY} for throughput. Engine latency = trigger request sent → a poll of ` +
      `GET /api/runs/{id} sees the terminal status (poll every ${LATENCY_POLL_MS} ms, so up to ` +
      `${LATENCY_POLL_MS} ms + one request of resolution; ${THROUGHPUT_POLL_MS} ms in the throughput batch). ` +
      "Floor = the same processes spawned directly in the same DAG order and parallelism, timed start → last exit.",
    "",
  );
  const rows: string[][] = [];
  for (const r of results) {
    const measured = (label: string, side: string, st: typeof r.engine, rps: number) => [
      label,
      side,
      `${st.n}/${RUNS}`,
      ms(st.p50),
      ms(st.p95),
      ms(st.mean),
      fmt(rps, 2),
    ];
    rows.push(measured(`${r.bc.label} · ${r.lane}`, "engine", r.engine, r.engineRps));
    rows.push(measured("", "floor", r.floor, r.floorRps));
    rows.push([
      "",
      "engine/floor",
      "",
      `${fmt(r.engine.p50 / r.floor.p50, 2)}×`,
      `${fmt(r.engine.p95 / r.floor.p95, 2)}×`,
      `${fmt(r.engine.mean / r.floor.mean, 2)}×`,
      `${fmt(r.floorRps / r.engineRps, 2)}×`,
    ]);
  }
  out.push(
    formatTable(["workflow", "", "ok", "p50 ms", "p95 ms", "mean ms", `runs/s @${CONCURRENCY}`], rows),
    "(ratios compare time: latency engine/floor, and for throughput floor runs/s ÷ engine runs/s = time per run)",
    "",
  );
  const failed = results.flatMap((r) => r.failures.map((f) => `  ${r.bc.label}: ${f}`));
  if (failed.length) {
    out.push(
      `WARNING: ${failed.length} engine run(s) did not succeed. They are left out of the latency figures (the ` +
        "throughput and per-run counts include them). Each is an engine bug to look at:",
      ...failed,
      "",
    );
  }

  const br: string[][] = [];
  const part = (label: string, pick: (r: CaseResult) => Summary) =>
    br.push([label, ...results.flatMap((r) => [ms(pick(r).p50), ms(pick(r).p95)])]);
  part("queued → running (state machine start, first Advance)", (r) => r.breakdown.queuedMs);
  part("child processes on the critical path (task durationMs)", (r) => r.breakdown.processMs);
  part("engine work inside Advance (records, logs, spawn setup)", (r) => r.breakdown.overheadMs);
  part("= server: createdAt → completedAt", (r) => r.breakdown.serverMs);
  part("+ client: trigger HTTP, poll resolution, detection", (r) => r.breakdown.detectMs);
  part("audit events per run (commits batch them: see DynamoDB write requests)", (r) => r.breakdown.events);
  part("server time per audit event", (r) => r.breakdown.msPerEvent);
  out.push(
    "Where the engine's latency goes (from the run and task records of the sequential runs):",
    formatTable(["part", ...results.flatMap((r) => [`${r.bc.label} p50`, "p95"])], br),
    "",
  );

  if (results.some((r) => r.profile)) {
    const pr: string[][] = [];
    for (const r of results)
      for (const [label, p] of Object.entries(r.profile ?? {}))
        pr.push([
          `${r.bc.label}: ${label}`,
          fmt(p.calls, 1),
          ms(p.totalMs),
          ms(p.httpMs),
          ms(p.sdkMs),
          fmt(p.msPerCall, 2),
          ms(r.breakdown.serverMs.mean),
        ]);
    out.push(
      "SDK calls to the emulators per sequential run (--profile; sums over calls, which overlap when nodes run in " +
        "parallel): end to end, the HTTP exchange with the emulator (its own work included), and the SDK's " +
        "serialize + SigV4 + parse:",
      formatTable(["client", "calls", "total ms", "HTTP ms", "SDK ms", "ms/call", "server ms (mean)"], pr),
      "",
    );
  }

  const cr: string[][] = [];
  const countRow = (label: string, key: keyof RunCounts) =>
    cr.push([label, ...results.flatMap((r) => [fmt(r.counts[key], 1), fmt(r.throughputCounts[key], 1)])]);
  countRow("state transitions (states entered)", "transitions");
  countRow("handler calls (Lambda invocations)", "handlerCalls");
  countRow("DynamoDB write requests", "dynamoWrites");
  countRow("DynamoDB WRUs by item size (est.)", "writeUnits");
  countRow("S3 PUTs", "s3Puts");
  out.push(
    "Per-run counts (CostMeter deltas ÷ runs; the HTTP trigger's own writes are included, polling reads are not):",
    formatTable(["per run", ...results.flatMap((r) => [`${r.bc.label} seq.`, `@${CONCURRENCY}`])], cr),
    "",
  );

  const lines = results[0]?.cost.lines ?? [];
  const costRows: string[][] = lines.map((l, i) => [
    l.item,
    ...results.flatMap((r) => {
      const line = r.cost.lines[i];
      return line ? [fmt(line.perRun, line.perRun < 10 ? 3 : 1), `$${fmt(line.dollarsPerMillionRuns, 2)}`] : ["", ""];
    }),
  ]);
  costRows.push([
    "total: orchestration (metered, without the tasks' own compute)",
    ...results.flatMap((r) => ["", `$${fmt(r.cost.engineTotal, 2)}`]),
  ]);
  costRows.push(["total: with the trigger request", ...results.flatMap((r) => ["", `$${fmt(r.cost.withTrigger, 2)}`])]);
  out.push(
    `Estimated dollars per million runs, AWS ${PRICES.region} list prices as of ${PRICES.asOf}, no free tier ` +
      "(sources in bench/stats.ts):",
    formatTable(["item", ...results.flatMap((r) => [`${r.bc.label} /run`, "$ / 1M runs"])], costRows),
    "Assumptions: Step Functions Standard $0.025/1k transitions; Lambda $0.20/1M requests + $0.0000133334/GB-s " +
      `arm64, Advance billed at ${LAMBDA_MEMORY_MB.advance} MB for each run's measured startedAt → completedAt ` +
      `(mean: ${results.map((r) => `${r.bc.label} ${ms(r.advanceMeanMs)} ms`).join(", ")}), split into the ` +
      "engine's own time (that less the spawn floor's time for the same tasks, at least 0) and the tasks' own " +
      "compute (the floor's time: the user's work, which any orchestrator running the tasks there pays; listed " +
      "apart and not in the totals), an estimate: this machine's load inflates both, and a Lambda " +
      "cold start and the cloud's DynamoDB/S3 latency differ from this machine; DynamoDB on-demand $0.625/1M WRU, " +
      (results[0]?.cost.lines.some((l) => l.item.includes("by item size"))
        ? "WRUs estimated from the size of each item put (one per started KB; updates, deletes and failed " +
          "conditional puts are sized as 1 or as the item attempted)"
        : "each write counted as 1 WRU (items ≤ 1 KB; larger items cost one WRU per started KB)") +
      "; reads ($0.125/1M RRU) are not counted; S3 $0.005/1k PUTs; the trigger row adds API Gateway HTTP API " +
      `$1.00/1M and the ${LAMBDA_MEMORY_MB.api} MB API Lambda for the measured trigger request time. Storage, data ` +
      "transfer, CloudWatch logs and the polling reads are not included.",
  );
  return out.join("\n");
}
