import { describe, expect, it } from "vitest";
import { parseMicros } from "../../dashboard/src/format.ts";
import { computeTicks, computeTimeline, tickLabel } from "../../dashboard/src/timeline.ts";
import type { Attempt, TaskRecord } from "../../dashboard/src/types.ts";

const at = (s: number): string =>
  new Date(Date.parse("2026-11-21T10:00:00Z") + s * 1000).toISOString().replace("Z", "000Z");
const us = (s: number): number => parseMicros(at(s)) ?? Number.NaN;

// The evidence fields a timeline does not read, as an attempt that recorded nothing.
const blank = {
  image: null,
  imageHash: null,
  command: null,
  codeHash: null,
  inputs: [],
  outputs: [],
  outputVariables: {},
  exitCode: null,
  stdout: "",
  stderr: "",
  logSha256: null,
  host: null,
  error: null,
};

function attempt(partial: Pick<Attempt, "attempt" | "status" | "startedAt" | "endedAt" | "durationMs">): Attempt {
  return { ...blank, ...partial };
}

function task(partial: Partial<TaskRecord> & Pick<TaskRecord, "nodeId" | "type" | "status">): TaskRecord {
  return { ...blank, attempt: 1, startedAt: null, endedAt: null, durationMs: null, attempts: [], ...partial };
}

describe("computeTimeline", () => {
  const run = { createdAt: at(0), startedAt: at(0), completedAt: at(100) };

  it("places one bar per attempt on a shared axis from the run's start to its end", () => {
    const tl = computeTimeline(
      [
        task({
          nodeId: "extract",
          type: "script",
          status: "succeeded",
          attempt: 2,
          attempts: [
            attempt({ attempt: 1, status: "failed", startedAt: at(0), endedAt: at(10), durationMs: 10_000 }),
            attempt({ attempt: 2, status: "succeeded", startedAt: at(20), endedAt: at(50), durationMs: 30_000 }),
          ],
        }),
      ],
      run,
      us(200),
    );
    expect(tl.startUs).toBe(us(0));
    expect(tl.endUs).toBe(us(100));
    expect(tl.rows.map((r) => [r.key, r.status, r.retried])).toEqual([
      ["extract#1", "failed", true],
      ["extract#2", "succeeded", true],
    ]);
    const [first, second] = tl.rows;
    expect(first?.segments[0]).toMatchObject({ kind: "run", start: 0, width: 0.1, open: false });
    expect(second?.segments[0]?.start).toBeCloseTo(0.2);
    expect(second?.segments[0]?.width).toBeCloseTo(0.3);
    expect(second?.durationUs).toBe(30_000_000);
  });

  it("draws a human step as waiting from waitingSince, still open while the run goes on", () => {
    const live = { createdAt: at(0), startedAt: at(0), completedAt: null };
    const tl = computeTimeline(
      [
        task({
          nodeId: "build",
          type: "command",
          status: "succeeded",
          attempts: [attempt({ attempt: 1, status: "succeeded", startedAt: at(0), endedAt: at(5), durationMs: 5000 })],
        }),
        task({ nodeId: "sign-off", type: "approval", status: "awaiting_approval", waitingSince: at(5) }),
      ],
      live,
      us(25),
    );
    const human = tl.rows.find((r) => r.nodeId === "sign-off");
    expect(human?.segments[0]).toMatchObject({ kind: "human", open: true, startUs: us(5), endUs: us(25) });
    expect(human?.segments[0]?.start).toBeCloseTo(0.2);
    expect(human?.segments[0]?.width).toBeCloseTo(0.8);
    expect(tl.endUs).toBe(us(25));
  });

  it("marks wait nodes and keeps tasks that never started, in definition order, at the bottom", () => {
    const tl = computeTimeline(
      [
        task({ nodeId: "publish", type: "command", status: "skipped" }),
        task({ nodeId: "notify", type: "command", status: "skipped" }),
        task({ nodeId: "cool-down", type: "wait", status: "succeeded", startedAt: at(10), endedAt: at(15) }),
      ],
      run,
      us(200),
      ["cool-down", "notify", "publish"],
    );
    expect(tl.rows.map((r) => r.nodeId)).toEqual(["cool-down", "notify", "publish"]);
    expect(tl.rows[0]?.segments[0]?.kind).toBe("wait");
    expect(tl.rows[1]?.segments).toEqual([]);
  });

  it("closes a running attempt at the run's end once the run is over", () => {
    const tl = computeTimeline(
      [
        task({
          nodeId: "x",
          type: "script",
          status: "cancelled",
          attempts: [attempt({ attempt: 1, status: "cancelled", startedAt: at(90), endedAt: null, durationMs: null })],
        }),
      ],
      run,
      us(500),
    );
    expect(tl.rows[0]?.segments[0]).toMatchObject({ endUs: us(100), open: false });
  });

  it("never divides by zero on an instant run", () => {
    const instant = { createdAt: at(0), startedAt: at(0), completedAt: at(0) };
    const tl = computeTimeline([], instant, us(0));
    expect(tl.endUs - tl.startUs).toBeGreaterThan(0);
    expect(tl.rows).toEqual([]);
  });
});

describe("ticks", () => {
  it("picks round steps that fit the number of ticks asked for", () => {
    const ticks = computeTicks(100_000_000, 6);
    expect(ticks.map((t) => t.label)).toEqual(["0", "+30 s", "+1m", "+1m 30s"]);
    expect(ticks.at(-1)?.at).toBeCloseTo(0.9);
    expect(computeTicks(60_000_000, 6).map((t) => t.label)).toEqual([
      "0",
      "+10 s",
      "+20 s",
      "+30 s",
      "+40 s",
      "+50 s",
      "+1m",
    ]);
    expect(computeTicks(100_000_000, 3).length).toBeLessThanOrEqual(4);
  });

  it("labels round offsets without trailing zero units", () => {
    expect(tickLabel(60_000_000)).toBe("1m");
    expect(tickLabel(3_600_000_000)).toBe("1h");
    expect(tickLabel(90_000_000)).toBe("1m 30s");
    expect(tickLabel(86_400_000_000)).toBe("1d");
    expect(tickLabel(2 * 86_400_000_000)).toBe("2d");
  });

  it("steps by whole days on runs that last weeks", () => {
    expect(computeTicks(12 * 86_400_000_000, 6).map((t) => t.label)).toEqual([
      "0",
      "+2d",
      "+4d",
      "+6d",
      "+8d",
      "+10d",
      "+12d",
    ]);
  });
});
