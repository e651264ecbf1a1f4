import { describe, expect, it } from "vitest";
import {
  durationBetween,
  formatBytes,
  formatDuration,
  formatRelative,
  formatTimestamp,
  formatValue,
  parseMicros,
  shortHash,
} from "../dashboard/src/format.ts";

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
    [1_500, "1.5 ms"],
    [12_400, "12 ms"],
    [4_200_000, "4.2 s"],
    [12_340_000, "12.3 s"],
    [60_000_000, "1m 00s"],
    [185_000_000, "3m 05s"],
    [7_380_000_000, "2h 03m"],
    [97_200_000_000, "1d 03h"],
  ])("%s µs → %s", (us, text) => {
    expect(formatDuration(us)).toBe(text);
  });

  it("never shows a negative duration (clock skew between hosts)", () => {
    expect(formatDuration(-5)).toBe("0 µs");
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
  it("shows the stored timestamp with its microseconds and the zone", () => {
    expect(formatTimestamp("2026-11-21T10:00:00.123456Z")).toBe("2026-11-21 10:00:00.123456 UTC");
    expect(formatTimestamp(null)).toBe("—");
  });
});

describe("formatRelative", () => {
  const now = Date.parse("2026-11-21T10:00:00Z");
  it.each([
    ["2026-11-21T09:59:58Z", "just now"],
    ["2026-11-21T09:59:30Z", "30 s ago"],
    ["2026-11-21T09:55:00Z", "5 min ago"],
    ["2026-11-21T07:00:00Z", "3 h ago"],
    ["2026-11-19T10:00:00Z", "2 d ago"],
  ])("%s → %s", (iso, text) => {
    expect(formatRelative(iso, now)).toBe(text);
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
