/**
 * `npm run bench`: drives the embedded stack over its HTTP API with two workflows (a 10-node diamond of commands and
 * a chain of 10 scripts) and prints, next to the floor of spawning the same processes directly: trigger-to-terminal
 * latency, throughput at concurrency 8, what each run costs in billable AWS requests and dollars, and where the time
 * goes. Then the run-file figures from bench/hashing.ts: hash + upload, download + verify, against SHA-256.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { type EmbeddedStack, startEmbedded } from "../local/embedded.ts";
import { parseIsoMicro } from "../shared/domain/clock.ts";
import { measureCliStartup, startupLines } from "./cli-startup.ts";
import { type Floor, prepareFloor } from "./floor.ts";
import { benchHashing } from "./hashing.ts";
import { benchJson } from "./json-report.ts";
import { type ProfiledClient, perRun, SdkProfiler } from "./profile.ts";
import {
  type AttributeValue,
  type CostEstimate,
  countsPerRun,
  criticalPathMs,
  dynamoItemBytes,
  estimateCost,
  expressBilledSeconds,
  fmt,
  formatTable,
  LAMBDA_MEMORY_MB,
  PRICES,
  parseRunCount,
  type RunCounts,
  type Summary,
  summarize,
  throughputBatchSize,
  writeUnits,
} from "./stats.ts";
import { type BenchCase, CASES } from "./workflows.ts";

const RUNS = parseRunCount(process.env.BENCH_RUNS, 50);
/** `--json`: stdout carries one JSON object (benchJson), the human-readable report goes to stderr. */
const JSON_OUT = process.argv.includes("--json");
/** `--profile`: time the SDK calls to the emulators (bench/profile.ts) and report them per run. */
const PROFILE = process.argv.includes("--profile");
/** BENCH_CASES: comma-separated words; only cases whose label contains one run (all when unset). */
const ONLY = (process.env.BENCH_CASES ?? "").split(",").filter(Boolean);
const SELECTED = CASES.filter((c) => ONLY.length === 0 || ONLY.some((w) => c.label.includes(w)));
/** Size of the run file the hashing figures use. */
const HASH_MIB = parseRunCount(process.env.BENCH_HASH_MIB, 256);
const WARMUP_RUNS = parseRunCount(process.env.BENCH_WARMUP, 3);
const CONCURRENCY = 8;
const THROUGHPUT_RUNS = throughputBatchSize(RUNS, CONCURRENCY);
/**
 * Sequential runs are polled this often: small against runs of several hundred ms, and every poll (auth + two
 * queries) runs on the same event loop and cores as the engine, so polling faster slows what it measures.
 */
const LATENCY_POLL_MS = 20;
/** Eight pollers at 20 ms would be ~400 requests/s on the engine's own event loop; 50 ms keeps them modest. */
const THROUGHPUT_POLL_MS = 50;
const RUN_TIMEOUT_MS = 60_000;
const LOAD_AT_START = loadavg()[0] ?? 0;
const TERMINAL = new Set(["succeeded", "no_action", "failed", "cancelled"]);

const RunView = z.object({
  runId: z.string(),
  status: z.string(),
  context: z.record(z.string(), z.object({ type: z.string(), value: z.unknown() })),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  error: z.unknown().nullable(),
  lane: z.enum(["standard", "express"]).default("standard"),
});
type RunView = z.infer<typeof RunView>;
const Accepted = z.object({ runId: z.string().startsWith("run_") });
const AuditTrail = z.object({ items: z.array(z.object({ seq: z.number() })) });
const TaskList = z.object({
  items: z.array(z.object({ nodeId: z.string(), status: z.string(), durationMs: z.number().nullable() })),
});
/** A thin client of the contract's routes, with the platform key. */
class Api {
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }
}

interface EngineSample {
  /** Client-observed: before the trigger request until a poll saw the terminal status. */
  latencyMs: number;
  /** The trigger request alone (202 received). */
  triggerMs: number;
  run: RunView;
}

/** Triggers one run and polls it until terminal; a run that does not succeed (or hangs) is returned as a failure. */
async function engineRun(
  api: Api,
  stack: EmbeddedStack,
  bc: BenchCase,
  pollMs: number,
): Promise<EngineSample | { failed: string }> {
  const t0 = performance.now();
  const { runId } = Accepted.parse(
    await api.call("POST", `/api/workflows/${bc.workflow.name}/trigger`, { parameters: {} }),
  );
  const triggerMs = performance.now() - t0;
  for (;;) {
    const run = RunView.parse(await api.call("GET", `/api/runs/${runId}`));
    if (TERMINAL.has(run.status)) {
      const latencyMs = performance.now() - t0;
      // The execution still passes Route and Done after the record is terminal: let it end before the next run.
      while (stack.orchestrator.runs.isRunning(runId)) await sleep(1);
      if (run.status !== "succeeded") {
        const tasks = TaskList.parse(await api.call("GET", `/api/runs/${runId}/tasks`));
        const why = tasks.items.filter((t) => t.status !== "succeeded").map((t) => `${t.nodeId} ${t.status}`);
        return { failed: `${runId} ended ${run.status}: ${JSON.stringify(run.error)} (${why.join(", ")})` };
      }
      if (bc.expectedStep !== null && run.context.step?.value !== bc.expectedStep)
        return { failed: `${runId}: context.step is ${JSON.stringify(run.context.step)}, not ${bc.expectedStep}` };
      return { latencyMs, triggerMs, run };
    }
    if (performance.now() - t0 > RUN_TIMEOUT_MS)
      return { failed: `${runId} still ${run.status} after ${RUN_TIMEOUT_MS / 1000} s` };
    await sleep(pollMs);
  }
}

/** Write request units by item size, summed by a middleware on the store's DynamoDB client. */
class WriteUnitCounter {
  units = 0;

  /** Hooks the run store's client; false when the store does not expose one (then WRUs are not estimated). */
  install(stack: EmbeddedStack): boolean {
    // The DynamoRunStore keeps its client private; the benchmark peeks at it to size what is written.
    const client = (stack.deps.store as unknown as { db?: { middlewareStack?: MiddlewareStackLike } }).db;
    if (!client?.middlewareStack) return false;
    client.middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        this.units += this.unitsOf(String(context.commandName), (args as { request?: { body?: unknown } }).request);
        return next(args);
      },
      { step: "build", name: "benchWriteUnits" },
    );
    return true;
  }

  private unitsOf(command: string, request: { body?: unknown } | undefined): number {
    const raw = request?.body;
    // The serialized JSON request: a string, or bytes with this SDK version (decoded with TextDecoder: the SDK's
    // byte body warns when string methods are called on it).
    const body = typeof raw === "string" ? raw : raw instanceof Uint8Array ? new TextDecoder().decode(raw) : null;
    const parse = () => (body ? (JSON.parse(body) as Record<string, unknown>) : {});
    if (command === "PutItemCommand") {
      const item = parse().Item as Record<string, AttributeValue> | undefined;
      return item ? writeUnits(dynamoItemBytes(item)) : 1;
    }
    if (command === "BatchWriteItemCommand") {
      const tables = (parse().RequestItems ?? {}) as Record<string, Array<{ PutRequest?: { Item: never } }>>;
      return Object.values(tables)
        .flat()
        .reduce((n, r) => n + (r.PutRequest ? writeUnits(dynamoItemBytes(r.PutRequest.Item)) : 1), 0);
    }
    // Updates and deletes are billed by the size of the item they touch, which the request does not show.
    return ["UpdateItemCommand", "DeleteItemCommand", "TransactWriteItemsCommand"].includes(command) ? 1 : 0;
  }
}

interface MiddlewareStackLike {
  add(
    mw: (
      next: (a: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    opts: { step: "build"; name: string },
  ): void;
}

/** Runs `total` jobs with `concurrency` workers; resolves with the wall time in ms. */
async function batch(total: number, concurrency: number, job: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await job();
      }
    }),
  );
  return performance.now() - t0;
}

/** Waits until the local state machine has no execution left and its event logs are counted. */
async function settle(stack: EmbeddedStack): Promise<void> {
  while (stack.orchestrator.runs.active > 0) await sleep(2);
  await sleep(20);
}

interface CaseResult {
  bc: BenchCase;
  /** Engine runs that did not succeed: left out of the latency figures, printed, and a bug to look at. */
  failures: string[];
  engine: Summary;
  floor: Summary;
  engineRps: number;
  floorRps: number;
  counts: RunCounts;
  throughputCounts: RunCounts;
  cost: CostEstimate;
  /** The lane the runs ran in (from the run view); a case whose runs differ is reported "mixed". */
  lane: string;
  /** With --profile: SDK calls per sequential run, by client. */
  profile: ReturnType<typeof perRun> | null;
  advanceMeanMs: number;
  breakdown: {
    queuedMs: Summary;
    serverMs: Summary;
    processMs: Summary;
    overheadMs: Summary;
    detectMs: Summary;
    events: Summary;
    msPerEvent: Summary;
  };
}

async function measureCase(
  api: Api,
  stack: EmbeddedStack,
  bc: BenchCase,
  floor: Floor,
  wru: WriteUnitCounter | null,
  profiler: SdkProfiler | null,
): Promise<CaseResult> {
  const snapshot = (): RunCounts => {
    const m = stack.deps.meter.snapshot();
    return { ...m, writeUnits: wru ? wru.units : m.dynamoWrites };
  };
  const caseStart = performance.now();
  const log = (s: string) =>
    process.stderr.write(`  [${fmt((performance.now() - caseStart) / 1000, 1)} s] ${bc.label}: ${s}\n`);
  log(`warm-up (${WARMUP_RUNS} engine + ${WARMUP_RUNS} floor runs)`);
  const failures: string[] = [];
  for (let i = 0; i < WARMUP_RUNS; i++) {
    const r = await engineRun(api, stack, bc, LATENCY_POLL_MS);
    if ("failed" in r) failures.push(`warm-up: ${r.failed}`);
    await floor.run();
  }
  await settle(stack);

  log(`latency, ${RUNS} sequential engine runs`);
  const before = snapshot();
  const profileBefore = profiler?.snapshot() ?? {};
  const samples: EngineSample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await engineRun(api, stack, bc, LATENCY_POLL_MS);
    if ("failed" in r) failures.push(r.failed);
    else samples.push(r);
  }
  if (samples.length === 0) throw new Error(`every ${bc.workflow.name} run failed: ${failures.join("; ")}`);
  await settle(stack);
  const after = snapshot();
  const counts = countsPerRun(before, after, RUNS);
  const profile = profiler ? perRun(profileBefore, profiler.snapshot(), RUNS) : null;

  // Where the time goes, from the records: queued → running, the processes' critical path, and the rest.
  const queued: number[] = [];
  const server: number[] = [];
  const processes: number[] = [];
  const overhead: number[] = [];
  const detect: number[] = [];
  const advanceMs: number[] = [];
  const events: number[] = [];
  const msPerEvent: number[] = [];
  for (const s of samples) {
    const tasks = TaskList.parse(await api.call("GET", `/api/runs/${s.run.runId}/tasks`));
    const audit = AuditTrail.parse(await api.call("GET", `/api/runs/${s.run.runId}/audit`));
    const durations = new Map(tasks.items.map((t) => [t.nodeId, t.durationMs ?? 0]));
    const created = parseIsoMicro(s.run.createdAt);
    const started = parseIsoMicro(s.run.startedAt ?? s.run.createdAt);
    const completed = parseIsoMicro(s.run.completedAt ?? s.run.createdAt);
    const path = criticalPathMs(bc.workflow.nodes, durations);
    queued.push(started - created);
    server.push(completed - created);
    processes.push(path);
    overhead.push(completed - started - path);
    detect.push(s.latencyMs - (completed - created));
    advanceMs.push(completed - started);
    events.push(audit.items.length);
    msPerEvent.push((completed - created) / Math.max(1, audit.items.length));
  }

  log(`latency, ${RUNS} sequential floor runs`);
  const floorMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const ctx = await floor.run();
    floorMs.push(performance.now() - t0);
    if (bc.expectedStep !== null && ctx.step !== bc.expectedStep) throw new Error(`floor ended with step ${ctx.step}`);
  }

  log(`throughput, ${THROUGHPUT_RUNS} engine runs at concurrency ${CONCURRENCY}`);
  const tBefore = snapshot();
  const engineWall = await batch(THROUGHPUT_RUNS, CONCURRENCY, async () => {
    const r = await engineRun(api, stack, bc, THROUGHPUT_POLL_MS);
    if ("failed" in r) failures.push(r.failed);
  });
  await settle(stack);
  const throughputCounts = countsPerRun(tBefore, snapshot(), THROUGHPUT_RUNS);

  log(`throughput, ${THROUGHPUT_RUNS} floor runs at concurrency ${CONCURRENCY}`);
  const floorWall = await batch(THROUGHPUT_RUNS, CONCURRENCY, () => floor.run());

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const advanceMeanMs = mean(advanceMs);
  const lanes = new Set(samples.map((s) => s.run.lane));
  const lane = lanes.size === 1 ? ([...lanes][0] ?? "standard") : "mixed";
  const triggerMeanMs = mean(samples.map((s) => s.triggerMs));
  return {
    bc,
    failures,
    engine: summarize(samples.map((s) => s.latencyMs)),
    floor: summarize(floorMs),
    engineRps: THROUGHPUT_RUNS / (engineWall / 1000),
    floorRps: THROUGHPUT_RUNS / (floorWall / 1000),
    counts,
    throughputCounts,
    cost: estimateCost(counts, {
      advanceSeconds: advanceMeanMs / 1000,
      triggerSeconds: triggerMeanMs / 1000,
      writeUnitsBySize: wru !== null,
      lane: lane === "express" ? "express" : "standard",
      // The execution lasts from the trigger's StartExecution to Done: the server's createdAt → completedAt.
      expressSeconds: mean(server.map(expressBilledSeconds)),
    }),
    lane,
    profile,
    advanceMeanMs,
    breakdown: {
      queuedMs: summarize(queued),
      serverMs: summarize(server),
      processMs: summarize(processes),
      overheadMs: summarize(overhead),
      detectMs: summarize(detect),
      events: summarize(events),
      msPerEvent: summarize(msPerEvent),
    },
  };
}

/** Run files: the engine's upload and download paths against this machine's SHA-256 floor (bench/hashing.ts). */
async function hashingLine(): Promise<string> {
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

function report(results: CaseResult[]): string {
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
  costRows.push(["total: engine (metered)", ...results.flatMap((r) => ["", `$${fmt(r.cost.engineTotal, 2)}`])]);
  costRows.push(["total: with the trigger request", ...results.flatMap((r) => ["", `$${fmt(r.cost.withTrigger, 2)}`])]);
  out.push(
    `Estimated dollars per million runs, AWS ${PRICES.region} list prices as of ${PRICES.asOf}, no free tier ` +
      "(sources in bench/stats.ts):",
    formatTable(["item", ...results.flatMap((r) => [`${r.bc.label} /run`, "$ / 1M runs"])], costRows),
    "Assumptions: Step Functions Standard $0.025/1k transitions; Lambda $0.20/1M requests + $0.0000133334/GB-s " +
      `arm64, Advance billed at ${LAMBDA_MEMORY_MB.advance} MB for each run's measured startedAt → completedAt ` +
      `(mean: ${results.map((r) => `${r.bc.label} ${ms(r.advanceMeanMs)} ms`).join(", ")}), an estimate: a Lambda ` +
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
    const counter = new WriteUnitCounter();
    const wru = counter.install(stack) ? counter : null;
    let profiler: SdkProfiler | null = null;
    if (PROFILE) {
      profiler = new SdkProfiler();
      // The stores keep their clients private; the profiler peeks at them, as the write-unit counter does.
      const db = (stack.deps.store as unknown as { db?: ProfiledClient }).db;
      const s3 = (stack.deps.blobs as unknown as { s3?: ProfiledClient }).s3;
      if (db) profiler.install("dynamodb", db);
      if (s3) profiler.install("s3", s3);
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
    const startup = startupLines(measureCliStartup(Number(process.env.CLI_STARTUP_RUNS ?? 20))).join("\n");
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
