/** Structured logs (Powertools Logger in the cloud, one line per entry embedded). */
export interface Logger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** The keys that tie a log line or a metrics blob to a run (and its org, or job run). */
export interface RunKeys {
  runId?: string;
  orgId?: string;
  jobRunId?: string;
}

/** JSON lines on stderr: the logger of code that runs without a composition root (scripts, tests). */
export const consoleLogger: Logger = {
  info: (msg, extra) => console.log(JSON.stringify({ level: "info", msg, ...extra })),
  warn: (msg, extra) => console.error(JSON.stringify({ level: "warn", msg, ...extra })),
  error: (msg, extra) => console.error(JSON.stringify({ level: "error", msg, ...extra })),
};
