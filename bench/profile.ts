/**
 * `npm run bench -- --profile`: where the embedded engine's time goes inside the SDK calls. Middleware on the run
 * store's DynamoDB client and the blob store's S3 client times each command end to end and its HTTP exchange with
 * the emulator (after serializing and SigV4 signing); the rest of a call is the SDK's own work.
 */
import type { InstrumentableClient } from "../shared/adapters/aws-clients.ts";

/** Totals of one client's calls. */
export interface CallTotals {
  calls: number;
  /** Sum over calls of the time from send() to the parsed result. */
  totalMs: number;
  /** Sum over calls of the HTTP exchange alone (request sent → response read), the emulator's work included. */
  httpMs: number;
  byCommand: Record<string, { calls: number; totalMs: number }>;
}

const empty = (): CallTotals => ({ calls: 0, totalMs: 0, httpMs: 0, byCommand: {} });

/** Times every call of the clients it is installed on. */
export class SdkProfiler {
  totals: Record<string, CallTotals> = {};

  /** Adds the timers to `client` under `label` (e.g. "dynamodb"). */
  install(label: string, client: InstrumentableClient): void {
    this.totals[label] ??= empty();
    const t = () => this.totals[label] as CallTotals;
    client.addHook(
      "initialize",
      "benchProfileTotal",
      async (call, next) => {
        const t0 = performance.now();
        try {
          return await next();
        } finally {
          const ms = performance.now() - t0;
          const tot = t();
          tot.calls++;
          tot.totalMs += ms;
          tot.byCommand[call.command] ??= { calls: 0, totalMs: 0 };
          const c = tot.byCommand[call.command];
          if (c) {
            c.calls++;
            c.totalMs += ms;
          }
        }
      },
      "high",
    );
    client.addHook(
      "deserialize",
      "benchProfileHttp",
      async (_call, next) => {
        const t0 = performance.now();
        try {
          return await next();
        } finally {
          t().httpMs += performance.now() - t0;
        }
      },
      "low",
    );
  }

  /** A copy of the totals so far, to subtract later. */
  snapshot(): Record<string, CallTotals> {
    return structuredClone(this.totals);
  }
}

/** Per-run averages between two snapshots: calls, ms end to end, ms of HTTP, ms of SDK work (serialize, sign, parse). */
export function perRun(
  before: Record<string, CallTotals>,
  after: Record<string, CallTotals>,
  runs: number,
): Record<string, { calls: number; totalMs: number; httpMs: number; sdkMs: number; msPerCall: number }> {
  const out: Record<string, { calls: number; totalMs: number; httpMs: number; sdkMs: number; msPerCall: number }> = {};
  for (const [label, a] of Object.entries(after)) {
    const b = before[label] ?? empty();
    const calls = (a.calls - b.calls) / runs;
    const totalMs = (a.totalMs - b.totalMs) / runs;
    const httpMs = (a.httpMs - b.httpMs) / runs;
    out[label] = { calls, totalMs, httpMs, sdkMs: totalMs - httpMs, msPerCall: calls ? totalMs / calls : 0 };
  }
  return out;
}
