import { describe, expect, it } from "vitest";
import {
  describeTrigger,
  durationBetween,
  formatBytes,
  formatDuration,
  formatDurationLong,
  formatMicros,
  formatRelative,
  formatTimestamp,
  formatValue,
  parseMicros,
  shortHash,
} from "../../dashboard/src/format.ts";

describe("parseMicros", () => {
  it("keeps the microseconds that Date drops", () => {
    const a = parseMicros("2026-11-21T10:00:00.123456Z");
    const b = parseMicros("2026-11-21T10:00:00.123457Z");
    expect(a).toBe(Date.parse("2026-11-21T10:00:00Z") * 1000 + 123_456);
    expect((b ?? 0) - (a ?? 0)).toBe(1);
  });

  it("reads timestamps with fewer fraction digits, none, or an offset", () => {
    expect(parseMicros("2026-11-21T10:00:00.5Z")).toBe(Date.parse("2026-11-21T10:00:00Z") * 1000 + 500_000);
    expect(parseMicros("2026-11-21T10:00:00Z")).toBe(Date.parse("2026-11-21T10:00:00Z") * 1000);
    expect(parseMicros("2026-11-21T11:00:00.000001+01:00")).toBe(Date.parse("2026-11-21T10:00:00Z") * 1000 + 1);
  });

  it("returns null for missing or unreadable values", () => {
    expect(parseMicros(null)).toBeNull();
    expect(parseMicros(undefined)).toBeNull();
    expect(parseMicros("yesterday")).toBeNull();
  });
});

describe("formatDuration", () => {
  it.each([
    [null, "—"],
    [0, "0 µs"],
    [850, "850 µs"],
    [999.6, "1 ms"],
    [1_500, "1.5 ms"],
    [12_400, "12 ms"],
    [999_600, "1 s"],
    [4_200_000, "4.2 s"],
    [12_340_000, "12.3 s"],
    [59_960_000, "1m 00s"],
    [60_000_000, "1m 00s"],
    [185_000_000, "3m 05s"],
    [185_999_999, "3m 05s"],
    [7_380_000_000, "2h 03m"],
    [97_200_000_000, "1d 03h"],
    [(31 + 2) * 86_400_000_000, "1mo 02d"],
  ])("%s µs → %s", (us, text) => {
    expect(formatDuration(us)).toBe(text);
  });

  it("never shows a negative duration (clock skew between hosts)", () => {
    expect(formatDuration(-5)).toBe("0 µs");
  });

  it("spells durations out for tooltips and screen readers", () => {
    expect(formatDurationLong(185_000_000)).toBe("3 minutes 5 seconds");
    expect(formatDurationLong(7_200_000_000)).toBe("2 hours");
    expect(formatDurationLong(97_200_000_000)).toBe("1 day 3 hours");
    expect(formatDurationLong(4_200_000)).toBe("4.2 s");
    expect(formatDurationLong(null)).toBe("—");
  });
});

describe("durationBetween", () => {
  it("measures between two timestamps to the microsecond", () => {
    expect(durationBetween("2026-11-21T10:00:00.000001Z", "2026-11-21T10:00:01.000002Z")).toBe(1_000_001);
  });

  it("runs to now for something still going, and is unknown before it starts", () => {
    const start = "2026-11-21T10:00:00.000000Z";
    const now = (parseMicros(start) ?? 0) + 2_000_000;
    expect(durationBetween(start, null, now)).toBe(2_000_000);
    expect(durationBetween(null, null, now)).toBeNull();
    expect(durationBetween(start, null)).toBeNull();
  });
});

describe("formatTimestamp", () => {
  it("shows the stored timestamp with its microseconds, in UTC", () => {
    expect(formatTimestamp("2026-11-21T10:00:00.123456Z")).toBe("2026-11-21 10:00:00.123456 UTC");
    expect(formatTimestamp("2026-11-21T10:00:00.000042Z")).toBe("2026-11-21 10:00:00.000042 UTC");
    expect(formatTimestamp("2026-11-21T11:30:00.5+01:00")).toBe("2026-11-21 10:30:00.500000 UTC");
    expect(formatTimestamp(null)).toBe("—");
    expect(formatTimestamp("yesterday")).toBe("yesterday");
  });

  it("formats microseconds since the epoch the same way", () => {
    const us = parseMicros("2026-11-21T23:59:59.999999Z") ?? 0;
    expect(formatMicros(us)).toBe("2026-11-21 23:59:59.999999 UTC");
  });
});

describe("formatRelative", () => {
  const now = Date.parse("2026-11-21T10:00:00Z");
  it.each([
    ["2026-11-21T09:59:58Z", "just now"],
    ["2026-11-21T10:00:05Z", "just now"],
    ["2026-11-21T09:59:30Z", "30 seconds ago"],
    ["2026-11-21T09:55:00Z", "5 minutes ago"],
    ["2026-11-21T09:54:01Z", "5 minutes ago"],
    ["2026-11-21T09:59:00Z", "1 minute ago"],
    ["2026-11-21T07:00:00Z", "3 hours ago"],
    ["2026-11-19T10:00:00Z", "2 days ago"],
    ["2025-10-01T10:00:00Z", "1 year ago"],
    ["2026-11-21T12:00:00Z", "in 2 hours"],
  ])("%s → %s", (iso, text) => {
    expect(formatRelative(iso, now)).toBe(text);
  });

  it("gives a bare distance without the suffix, and a dash for nothing", () => {
    expect(formatRelative("2026-11-21T09:55:01Z", now, false)).toBe("4 minutes");
    expect(formatRelative("2026-11-21T09:59:58Z", now, false)).toBe("2 seconds");
    expect(formatRelative(null, now)).toBe("—");
  });
});

describe("formatBytes, shortHash, formatValue", () => {
  it("formats sizes in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(20 * 1024 * 1024)).toBe("20 MiB");
  });

  it("shortens hashes but keeps the algorithm", () => {
    expect(shortHash(`sha256:${"ab".repeat(32)}`)).toBe("sha256:abababababab…");
    expect(shortHash("sha256:abc")).toBe("sha256:abc");
    expect(shortHash(null)).toBe("—");
  });

  it("prints strings bare and everything else as JSON", () => {
    expect(formatValue("eu")).toBe("eu");
    expect(formatValue(3)).toBe("3");
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
    expect(formatValue(true)).toBe("true");
  });
});

describe("describeTrigger", () => {
  it("names the schedule and its instant, the webhook, or the job; nothing more for a person", () => {
    expect(
      describeTrigger({ type: "schedule", scheduleName: "nightly", scheduledFor: "2026-11-21T02:00:00.000000Z" }),
    ).toBe("nightly, for 2026-11-21 02:00:00.000000 UTC");
    expect(describeTrigger({ type: "webhook", webhookId: "wh_01JD0000000000000000000000" })).toBe(
      "wh_01JD0000000000000000000000",
    );
    expect(describeTrigger({ type: "job", userId: "ada", jobName: "daily-chain" })).toBe("daily-chain");
    expect(describeTrigger({ type: "manual", userId: "ada" })).toBeNull();
  });
});
