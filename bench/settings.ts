/** The benchmark's settings, from the command line and the environment (BENCH_* variables). */
import { loadavg } from "node:os";
import { parseRunCount, throughputBatchSize } from "./stats.ts";
import { CASES } from "./workflows.ts";

export const RUNS = parseRunCount(process.env.BENCH_RUNS, 50);
/** `--json`: stdout carries one JSON object (benchJson), the human-readable report goes to stderr. */
export const JSON_OUT = process.argv.includes("--json");
/** `--profile`: time the SDK calls to the emulators (bench/profile.ts) and report them per run. */
export const PROFILE = process.argv.includes("--profile");
/** BENCH_CASES: comma-separated words; only cases whose label contains one run (all when unset). */
const ONLY = (process.env.BENCH_CASES ?? "").split(",").filter(Boolean);
export const SELECTED = CASES.filter((c) => ONLY.length === 0 || ONLY.some((w) => c.label.includes(w)));
/** Size of the run file the hashing figures use. */
export const HASH_MIB = parseRunCount(process.env.BENCH_HASH_MIB, 256);
export const WARMUP_RUNS = parseRunCount(process.env.BENCH_WARMUP, 3);
export const CLI_STARTUP_RUNS = parseRunCount(process.env.CLI_STARTUP_RUNS, 20);
export const CONCURRENCY = 8;
export const THROUGHPUT_RUNS = throughputBatchSize(RUNS, CONCURRENCY);
/**
 * Sequential runs are polled this often: small against runs of several hundred ms, and every poll (auth + two
 * queries) runs on the same event loop and cores as the engine, so polling faster slows what it measures.
 */
export const LATENCY_POLL_MS = 20;
/** Eight pollers at 20 ms would be ~400 requests/s on the engine's own event loop; 50 ms keeps them modest. */
export const THROUGHPUT_POLL_MS = 50;
export const RUN_TIMEOUT_MS = 60_000;
export const LOAD_AT_START = loadavg()[0] ?? 0;
