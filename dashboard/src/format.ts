// Formatting helpers on date-fns. Timestamps arrive with microseconds ("2026-11-21T10:00:00.123456Z") and a JS
// Date keeps milliseconds only, so a thin layer keeps times as integer microseconds since the epoch (exact in a
// double until the year 2255): date-fns parses and formats the whole seconds, the fraction digits are kept here.
import { UTCDate, utc } from "@date-fns/utc";
import type { Duration } from "date-fns";
import { formatDistanceStrict } from "date-fns/formatDistanceStrict";
import { formatDuration as formatDurationWords } from "date-fns/formatDuration";
import { intervalToDuration } from "date-fns/intervalToDuration";
import { isValid } from "date-fns/isValid";
import { lightFormat } from "date-fns/lightFormat";
import { parseISO } from "date-fns/parseISO";

const US_PER_MS = 1000;
const US_PER_S = 1_000_000;

// The fraction of the seconds, set apart so that date-fns parses whole seconds and no digit is lost to floats.
const SECONDS_FRACTION = /(T\d{2}:?\d{2}:?\d{2})[.,](\d+)/;

/** Microseconds since the epoch of an ISO 8601 timestamp, or null when it is missing or unreadable. */
export function parseMicros(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const text = iso.trim();
  const fraction = SECONDS_FRACTION.exec(text)?.[2] ?? "";
  // Without an offset the time is read as UTC, like every timestamp the API writes.
  const date = parseISO(fraction ? text.replace(SECONDS_FRACTION, "$1") : text, { in: utc });
  if (!isValid(date)) return null;
  return date.getTime() * US_PER_MS + Number(fraction.padEnd(6, "0").slice(0, 6));
}

/** A duration given in microseconds, short for tight spots: "850 µs", "12 ms", "4.2 s", "3m 05s", "2h 03m". */
export function formatDuration(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return "—";
  if (us < 0) us = 0;
  // Below a minute the UI shows fractions, which date-fns durations (whole units) do not carry. Each threshold
  // compares the rounded value, so that 999.6 ms reads "1 s", not "1000 ms".
  if (Math.round(us) < US_PER_MS) return `${Math.round(us)} µs`;
  if (Math.round(us / 100) < 100) return `${trim((us / US_PER_MS).toFixed(1))} ms`;
  if (Math.round(us / US_PER_MS) < 1000) return `${Math.round(us / US_PER_MS)} ms`;
  if (Math.round(us / 100_000) < 600) return `${trim((us / US_PER_S).toFixed(1))} s`;
  // From a minute up, the two largest units, the second padded so columns line up: "1d 03h", "1mo 02d".
  // (59.96 s is past the seconds branch because it would read "60 s"; it is shown as the minute it rounds to.)
  const parts = durationParts(Math.max(us, 60 * US_PER_S));
  const first = parts.findIndex(([n]) => n > 0);
  const [n, unit] = parts[first] ?? [0, "s"];
  const next = parts[first + 1];
  return next ? `${n}${unit} ${pad2(next[0])}${next[1]}` : `${n}${unit}`;
}

/** A duration in words for tooltips and screen readers: "3 minutes 5 seconds"; below a minute as formatDuration. */
export function formatDurationLong(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us) || us < 60 * US_PER_S) return formatDuration(us);
  return formatDurationWords(toDuration(us));
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

/** A timestamp in UTC whatever the browser's zone, microseconds kept: "2026-11-21 10:00:00.123456 UTC". */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return "—";
  const us = parseMicros(iso);
  return us === null ? iso : formatMicros(us);
}

/** Microseconds since the epoch as formatTimestamp shows them. */
export function formatMicros(us: number): string {
  const whole = Math.round(us);
  const ms = Math.floor(whole / US_PER_MS);
  const micros = String(whole - ms * US_PER_MS).padStart(3, "0");
  // lightFormat, not format: fixed numeric tokens need no locale, and it keeps ~5 kB (gzipped) out of the bundle.
  return `${lightFormat(new UTCDate(ms), "yyyy-MM-dd HH:mm:ss.SSS")}${micros} UTC`;
}

/**
 * How long ago (or how far ahead) a timestamp is, from `nowMs`: "just now", "5 minutes ago", "in 2 hours".
 * Without the suffix it is a plain distance ("5 minutes"). Units are floored: 5 min 59 s is still "5 minutes".
 */
export function formatRelative(iso: string | null | undefined, nowMs: number, suffix = true): string {
  const us = parseMicros(iso);
  if (us === null) return "—";
  const ms = us / US_PER_MS;
  // A few seconds either way is clock skew between the server and the browser more than information.
  if (suffix && Math.abs(nowMs - ms) < 10_000) return "just now";
  return formatDistanceStrict(ms, nowMs, { addSuffix: suffix, roundingMethod: "floor" });
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

/** A span of microseconds in calendar units, counted in UTC from the epoch so no daylight-saving hour slips in. */
function toDuration(us: number): Duration {
  return intervalToDuration({ start: 0, end: Math.floor(us / US_PER_MS) }, { in: utc });
}

function durationParts(us: number): [number, string][] {
  const d = toDuration(us);
  return [
    [d.years ?? 0, "y"],
    [d.months ?? 0, "mo"],
    [d.days ?? 0, "d"],
    [d.hours ?? 0, "h"],
    [d.minutes ?? 0, "m"],
    [d.seconds ?? 0, "s"],
  ];
}
const trim = (s: string): string => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);

/** What started a run beyond its type: the schedule and the instant it fired for, the webhook, the job. */
export function describeTrigger(trigger: { type: string; [extra: string]: unknown }): string | null {
  const str = (k: string) => (typeof trigger[k] === "string" ? (trigger[k] as string) : null);
  if (trigger.type === "schedule" && str("scheduleName")) {
    const at = str("scheduledFor");
    return at ? `${str("scheduleName")}, for ${formatTimestamp(at)}` : str("scheduleName");
  }
  if (trigger.type === "webhook") return str("webhookId");
  if (trigger.type === "job") return str("jobName");
  return null;
}
