// Geometry of the run timeline: one row per task attempt on a shared time axis. Positions are fractions
// of the axis (0..1) so the view can draw them at any width, from a phone to a wide screen.
import { millisecondsInDay, millisecondsInHour, millisecondsInMinute, millisecondsInSecond } from "date-fns/constants";
import { formatDuration, parseMicros } from "./format.ts";
import type { TaskRecord } from "./types.ts";

/** "run": the task was executing; "human": it waited for a person; "wait": a timed wait node. */
export type SegmentKind = "run" | "human" | "wait";

export interface TimelineSegment {
  kind: SegmentKind;
  startUs: number;
  endUs: number;
  /** Still going: the end is "now". */
  open: boolean;
  start: number;
  width: number;
}

export interface TimelineRow {
  key: string;
  nodeId: string;
  attempt: number;
  /** More than one attempt exists for this node, so the row label names the attempt. */
  retried: boolean;
  status: string;
  type: string;
  segments: TimelineSegment[];
  durationUs: number | null;
}

export interface TimelineTick {
  at: number;
  label: string;
}

export interface Timeline {
  startUs: number;
  endUs: number;
  rows: TimelineRow[];
  ticks: TimelineTick[];
}

export interface TimelineRunTimes {
  createdAt?: string | null;
  startedAt?: string | null;
  completedAt?: string | null;
}

type Span = Omit<TimelineSegment, "start" | "width">;
type RawRow = Omit<TimelineRow, "segments"> & { spans: Span[] };

const TERMINAL = new Set(["succeeded", "failed", "skipped", "cancelled", "no_action", "interrupted"]);
const HUMAN = new Set(["approval", "input"]);

/**
 * Lays out the tasks of a run on one time axis. `nowUs` closes segments that are still open; `order`
 * (the definition's node order) decides where rows that have not started go.
 */
export function computeTimeline(
  tasks: readonly TaskRecord[],
  run: TimelineRunTimes,
  nowUs: number,
  order: readonly string[] = [],
  maxTicks = 6,
): Timeline {
  const runEnd = parseMicros(run.completedAt);
  const closeAt = runEnd ?? nowUs;
  const raw: RawRow[] = [];

  for (const task of tasks) {
    const attempts = task.attempts && task.attempts.length > 0 ? task.attempts : null;
    const kindOf: SegmentKind = HUMAN.has(task.type) ? "human" : task.type === "wait" ? "wait" : "run";
    if (attempts) {
      for (const a of attempts) {
        const s = parseMicros(a.startedAt);
        const spans: Span[] = [];
        if (s !== null) {
          const e = parseMicros(a.endedAt);
          spans.push({ kind: kindOf, startUs: s, endUs: Math.max(s, e ?? closeAt), open: e === null && !runEnd });
        }
        raw.push({
          key: `${task.nodeId}#${a.attempt}`,
          nodeId: task.nodeId,
          attempt: a.attempt,
          retried: attempts.length > 1,
          status: a.status,
          type: task.type,
          durationUs: spans[0] ? spans[0].endUs - spans[0].startUs : null,
          spans,
        });
      }
    } else {
      // Human steps and waits have no attempts: the span is from when they began waiting until they ended.
      const s = parseMicros(task.waitingSince ?? task.startedAt);
      const spans: Span[] = [];
      if (s !== null) {
        const e = parseMicros(task.endedAt);
        const stillGoing = e === null && !TERMINAL.has(task.status) && !runEnd;
        spans.push({ kind: kindOf, startUs: s, endUs: Math.max(s, e ?? closeAt), open: stillGoing });
      }
      raw.push({
        key: `${task.nodeId}#${task.attempt ?? 1}`,
        nodeId: task.nodeId,
        attempt: task.attempt ?? 1,
        retried: false,
        status: task.status,
        type: task.type,
        durationUs: spans[0] ? spans[0].endUs - spans[0].startUs : null,
        spans,
      });
    }
  }

  const starts = raw.flatMap((r) => r.spans.map((sp) => sp.startUs));
  const ends = raw.flatMap((r) => r.spans.map((sp) => sp.endUs));
  let startUs =
    parseMicros(run.startedAt) ?? parseMicros(run.createdAt) ?? (starts.length ? Math.min(...starts) : nowUs);
  if (starts.length) startUs = Math.min(startUs, ...starts);
  let endUs = runEnd ?? (ends.length ? Math.max(nowUs, ...ends) : nowUs);
  if (ends.length) endUs = Math.max(endUs, ...ends);
  // A zero-length axis would divide by zero; a millisecond is short enough to look instant.
  if (endUs - startUs < 1000) endUs = startUs + 1000;
  const span = endUs - startUs;

  const position = (order as string[]).reduce<Map<string, number>>((m, id, i) => m.set(id, i), new Map());
  const rows: TimelineRow[] = raw
    .map(({ spans, ...row }) => ({
      ...row,
      segments: spans.map((sp) => ({
        ...sp,
        start: clamp01((sp.startUs - startUs) / span),
        width: clamp01((sp.endUs - sp.startUs) / span),
      })),
    }))
    .sort((a, b) => {
      const sa = a.segments[0]?.startUs;
      const sb = b.segments[0]?.startUs;
      if (sa !== undefined && sb !== undefined && sa !== sb) return sa - sb;
      if (sa !== undefined && sb === undefined) return -1;
      if (sa === undefined && sb !== undefined) return 1;
      const pa = position.get(a.nodeId) ?? Number.MAX_SAFE_INTEGER;
      const pb = position.get(b.nodeId) ?? Number.MAX_SAFE_INTEGER;
      return pa !== pb ? pa - pb : a.attempt - b.attempt;
    });

  return { startUs, endUs, rows, ticks: computeTicks(span, maxTicks) };
}

// Tick spacings: round numbers of microseconds, milliseconds and seconds, then whole minutes, hours and days.
const S = millisecondsInSecond * 1000;
const MIN = millisecondsInMinute * 1000;
const H = millisecondsInHour * 1000;
const DAY = millisecondsInDay * 1000;
const STEPS_US = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1_000,
  2_000,
  5_000,
  10_000,
  20_000,
  50_000,
  100_000,
  200_000,
  500_000,
  S,
  2 * S,
  5 * S,
  10 * S,
  15 * S,
  30 * S,
  MIN,
  2 * MIN,
  5 * MIN,
  10 * MIN,
  15 * MIN,
  30 * MIN,
  H,
  2 * H,
  6 * H,
  12 * H,
  DAY,
];

/** Evenly spaced ticks at round offsets from the start of the axis (+0, +5 s, +10 s, …). */
export function computeTicks(spanUs: number, maxTicks = 6): TimelineTick[] {
  if (!(spanUs > 0) || maxTicks < 1) return [{ at: 0, label: "0" }];
  const step = STEPS_US.find((s) => spanUs / s <= maxTicks) ?? Math.ceil(spanUs / maxTicks / DAY) * DAY;
  const ticks: TimelineTick[] = [];
  for (let t = 0; t <= spanUs + 1e-9; t += step)
    ticks.push({ at: t / spanUs, label: t === 0 ? "0" : `+${tickLabel(t)}` });
  return ticks;
}

/** Tick offsets are round numbers, so "1m 00s" reads better as "1m" (and "1d 00h" as "1d"). */
export function tickLabel(us: number): string {
  return formatDuration(us).replace(/ 00[a-z]+$/, "");
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));
