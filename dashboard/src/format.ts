// Formatting helpers. Timestamps arrive with microseconds, which Date drops, so times are handled as
// integer microseconds since the epoch (still exact in a double until the year 2255).

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Microseconds since the epoch of an ISO 8601 timestamp, or null when it is missing or unreadable. */
export function parseMicros(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const m = ISO.exec(iso.trim());
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3] ?? "Z"}`);
  if (Number.isNaN(ms)) return null;
  const micros = Number((m[2] ?? "").padEnd(6, "0").slice(0, 6));
  return ms * 1000 + micros;
}

/** A duration given in microseconds, short and readable: "850 µs", "12 ms", "4.2 s", "3m 05s", "2h 03m". */
export function formatDuration(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return "—";
  if (us < 0) us = 0;
  if (us < 1000) return `${Math.round(us)} µs`;
  const ms = us / 1000;
  if (ms < 10) return `${trim(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${trim(s.toFixed(1))} s`;
  const totalS = Math.floor(s);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${pad2(totalS % 60)}s`;
  const totalM = Math.floor(totalS / 60);
  if (totalM < 24 * 60) return `${Math.floor(totalM / 60)}h ${pad2(totalM % 60)}m`;
  const totalH = Math.floor(totalM / 60);
  return `${Math.floor(totalH / 24)}d ${pad2(totalH % 24)}h`;
}

/** Duration between two ISO timestamps (the end defaults to `nowUs`, for things still going). */
export function durationBetween(
  start: string | null | undefined,
  end: string | null | undefined,
  nowUs?: number,
): number | null {
  const s = parseMicros(start);
  if (s === null) return null;
  const e = parseMicros(end) ?? nowUs ?? null;
  return e === null ? null : Math.max(0, e - s);
}

/** A timestamp as stored, microseconds kept, made easier to read: "2026-11-21 10:00:00.123456 UTC". */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return "—";
  const m = ISO.exec(iso.trim());
  if (!m) return iso;
  const [date, time] = (m[1] ?? "").split("T");
  const frac = m[2] ? `.${m[2]}` : "";
  const zone = !m[3] || m[3] === "Z" ? "UTC" : m[3];
  return `${date} ${time}${frac} ${zone}`;
}

/** "just now", "5 min ago", "3 h ago", "2 d ago", for lists where the exact time is in the tooltip. */
export function formatRelative(iso: string | null | undefined, nowMs: number): string {
  const us = parseMicros(iso);
  if (us === null) return "—";
  const diffS = Math.round((nowMs - us / 1000) / 1000);
  if (diffS < 0) return "in the future";
  if (diffS < 10) return "just now";
  if (diffS < 60) return `${diffS} s ago`;
  if (diffS < 3600) return `${Math.floor(diffS / 60)} min ago`;
  if (diffS < 86400) return `${Math.floor(diffS / 3600)} h ago`;
  return `${Math.floor(diffS / 86400)} d ago`;
}

/** Byte sizes in binary units: "512 B", "1.5 KiB", "20 MiB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${trim(v.toFixed(v < 10 ? 1 : 0))} ${units[i]}`;
}

/** "sha256:0123456789ab…" — enough to tell hashes apart at a glance; the full value goes in a tooltip. */
export function shortHash(hash: string | null | undefined, hexChars = 12): string {
  if (!hash) return "—";
  const [algo, hex] = hash.includes(":") ? (hash.split(":", 2) as [string, string]) : ["", hash];
  if (hex.length <= hexChars) return hash;
  return `${algo ? `${algo}:` : ""}${hex.slice(0, hexChars)}…`;
}

/** A value as one would type it: strings bare, everything else as JSON. */
export function formatValue(value: unknown, pretty = false): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value, null, pretty ? 2 : undefined) ?? String(value);
}

/** Status ids such as "awaiting_approval" as words: "awaiting approval". */
export const humanize = (status: string): string => status.replace(/_/g, " ");

const pad2 = (n: number): string => String(n).padStart(2, "0");
const trim = (s: string): string => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);
