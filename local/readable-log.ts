// What `npm start` prints: one readable line per entry, per HTTP request and per run or job-run status change, where
// the cloud writes Powertools' JSON lines (a person reads a terminal; CloudWatch reads JSON).

import type { Logger } from "../shared/ports/logger.ts";
import type { RunEventSubscriber } from "../shared/ports/run-events.ts";

/** `key=value` pairs, strings bare unless they hold spaces, anything else as JSON. */
function pairs(extra: Record<string, unknown> | undefined): string {
  if (!extra) return "";
  return Object.entries(extra)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .map((p) => ` ${p}`)
    .join("");
}

/** The Logger port as readable lines on stderr: `warn delivery not queued… deliveryId=dlv_… error=…`. */
export function readableLogger(write: (line: string) => void = (line) => console.error(line)): Logger {
  return {
    info: (msg, extra) => write(`info  ${msg}${pairs(extra)}`),
    warn: (msg, extra) => write(`warn  ${msg}${pairs(extra)}`),
    error: (msg, extra) => write(`error ${msg}${pairs(extra)}`),
  };
}

/** One line per HTTP request: method, path (never the query: it may carry a token), status and time taken. */
export function requestLine(method: string, path: string, status: number, ms: number): string {
  return `${method} ${path} ${status} ${Math.round(ms)} ms`;
}

/** A run-event subscriber that prints one line per run and job-run status change. */
export function statusLines(log: (line: string) => void): RunEventSubscriber {
  return {
    name: "status-lines",
    onRunChange: async (run, from) =>
      log(`run ${run.runId} ${run.workflow.name} ${from ?? "new"} → ${run.status} (org ${run.orgId})`),
    onJobRunChange: async (jobRun, from) =>
      log(`job run ${jobRun.jobRunId} ${jobRun.job} ${from ?? "new"} → ${jobRun.status} (org ${jobRun.orgId})`),
  };
}
