/** One benchmark case measured: warm-up, sequential latency, the breakdown from the records, throughput at 8. */
import type { EmbeddedStack } from "../local/embedded.ts";
import { parseIsoMicro } from "../shared/domain/clock.ts";
import { type Api, AuditTrail, batch, type EngineSample, engineRun, settle, TaskList } from "./engine-api.ts";
import type { Floor } from "./floor.ts";
import { perRun, type SdkProfiler } from "./profile.ts";
import { CONCURRENCY, LATENCY_POLL_MS, RUNS, THROUGHPUT_POLL_MS, THROUGHPUT_RUNS, WARMUP_RUNS } from "./settings.ts";
import {
  type CostEstimate,
  countsPerRun,
  criticalPathMs,
  estimateCost,
  expressBilledSeconds,
  fmt,
  type RunCounts,
  type Summary,
  summarize,
} from "./stats.ts";
import type { BenchCase } from "./workflows.ts";
import type { WriteUnitCounter } from "./write-units.ts";

export interface CaseResult {
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

export async function measureCase(
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
      // The tasks' own run time is what the spawn floor takes to run them: the user's compute, priced apart.
      taskSeconds: mean(floorMs) / 1000,
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
