import type { Json } from "./stack.ts";

/** One line per run: when it was triggered, started and ended, in seconds after the first trigger. */
export function timeline(runs: Json[]): string {
  const t0 = Date.parse(runs[0].createdAt);
  const rel = (iso: string | null) => (iso ? `${((Date.parse(iso) - t0) / 1000).toFixed(2)}s` : "-");
  return runs
    .map(
      (r, i) => `run ${i + 1}: triggered ${rel(r.createdAt)}  started ${rel(r.startedAt)}  ended ${rel(r.completedAt)}`,
    )
    .join("\n");
}
