/** A source of time; tests inject a fixed or stepping clock. */
export interface Clock {
  /** Milliseconds since the epoch, possibly fractional (microsecond precision). */
  nowMs(): number;
}

const origin = Date.now() - performance.now();

/** The wall clock with microsecond resolution from the monotonic timer. */
export const systemClock: Clock = {
  nowMs: () => origin + performance.now(),
};

/** Formats epoch milliseconds as UTC ISO 8601 with microseconds: 2026-11-21T10:00:00.123456Z. */
export function isoMicro(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.floor((ms - whole) * 1000);
  const base = new Date(whole).toISOString(); // ...ss.mmmZ
  return `${base.slice(0, -1)}${String(micros).padStart(3, "0")}Z`;
}

/** Parses an ISO timestamp with up to microsecond precision into epoch milliseconds. */
export function parseIsoMicro(iso: string): number {
  const m = /^(.*\.\d{3})(\d{3})Z$/.exec(iso);
  if (!m) return Date.parse(iso);
  return Date.parse(`${m[1]}Z`) + Number(m[2]) / 1000;
}

/** The current time of a clock as an ISO string with microseconds. */
export const nowIso = (clock: Clock): string => isoMicro(clock.nowMs());
