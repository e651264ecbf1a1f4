import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { prepareFloor } from "../../bench/floor.ts";
import {
  attributeValueBytes,
  countsPerRun,
  criticalPathMs,
  dynamoItemBytes,
  estimateCost,
  expressBilledSeconds,
  formatTable,
  PRICES,
  parseRunCount,
  percentile,
  summarize,
  throughputBatchSize,
  writeUnits,
} from "../../bench/stats.ts";
import { CASES, chain, diamond, diamondStandard } from "../../bench/workflows.ts";

const execFileAsync = promisify(execFile);

// The benchmark's pure helpers, so `npm run bench` prints numbers computed the way its output says. Nothing here
// is timed: performance belongs in the benchmark itself.

describe("percentiles", () => {
  it("uses the nearest rank, so every percentile is an observed value", () => {
    const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 95)).toBe(10);
    expect(percentile(xs, 100)).toBe(10);
    expect(percentile(xs, 10)).toBe(1);
    expect(percentile([42], 95)).toBe(42);
  });

  it("rejects an empty sample and a percentile outside (0, 100]", () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile([1], 0)).toThrow(/outside/);
    expect(() => percentile([1], 101)).toThrow(/outside/);
  });

  it("summarizes count, p50, p95, mean, min and max without reordering the input", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    const s = summarize(xs);
    expect(s).toEqual({ n: 100, p50: 50, p95: 95, mean: 50.5, min: 1, max: 100 });
    expect(xs[0]).toBe(100);
  });
});

describe("run counts and batch sizes", () => {
  it("reads BENCH_RUNS as a whole number, with the default when unset", () => {
    expect(parseRunCount(undefined, 50)).toBe(50);
    expect(parseRunCount("", 50)).toBe(50);
    expect(parseRunCount("12", 50)).toBe(12);
    expect(() => parseRunCount("0", 50)).toThrow(/BENCH_RUNS/);
    expect(() => parseRunCount("2.5", 50)).toThrow(/BENCH_RUNS/);
  });

  it("sizes the throughput batch in rounds of the concurrency, 4 rounds for the default 50 runs", () => {
    expect(throughputBatchSize(50, 8)).toBe(32);
    expect(throughputBatchSize(1, 8)).toBe(8);
    expect(throughputBatchSize(100, 8)).toBe(64);
  });

  it("divides meter deltas by the number of runs", () => {
    const before = { transitions: 10, handlerCalls: 4, dynamoWrites: 100, writeUnits: 150, s3Puts: 7 };
    const after = { transitions: 40, handlerCalls: 14, dynamoWrites: 560, writeUnits: 1150, s3Puts: 107 };
    expect(countsPerRun(before, after, 10)).toEqual({
      transitions: 3,
      handlerCalls: 1,
      dynamoWrites: 46,
      writeUnits: 100,
      s3Puts: 10,
    });
    expect(() => countsPerRun(before, after, 0)).toThrow();
  });
});

describe("critical path", () => {
  it("takes the slowest branch of the diamond and the sum of the chain", () => {
    const d = new Map(diamond.nodes.map((n) => [n.id, 1]));
    d.set("fan-5", 10);
    expect(criticalPathMs(diamond.nodes, d)).toBe(12);
    const c = new Map(chain.nodes.map((n) => [n.id, 2]));
    expect(criticalPathMs(chain.nodes, c)).toBe(20);
  });

  it("counts a node without a duration as zero and rejects a cycle", () => {
    expect(criticalPathMs([{ id: "a" }, { id: "b", needs: ["a"] }], new Map([["b", 3]]))).toBe(3);
    expect(() =>
      criticalPathMs(
        [
          { id: "a", needs: ["b"] },
          { id: "b", needs: ["a"] },
        ],
        new Map(),
      ),
    ).toThrow(/cycle/);
  });
});

describe("DynamoDB item sizes", () => {
  it("follows the documented sizing rules", () => {
    expect(attributeValueBytes({ S: "héllo" })).toBe(6);
    expect(attributeValueBytes({ N: "12345" })).toBe(4);
    expect(attributeValueBytes({ N: "-0.0012300" })).toBe(3);
    expect(attributeValueBytes({ BOOL: true })).toBe(1);
    expect(attributeValueBytes({ NULL: true })).toBe(1);
    expect(attributeValueBytes({ B: Buffer.from("abcd").toString("base64") })).toBe(4);
    expect(attributeValueBytes({ L: [{ S: "ab" }, { N: "1" }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(attributeValueBytes({ M: { ab: { S: "xyz" } } })).toBe(3 + 1 + 2 + 3);
    expect(dynamoItemBytes({ pk: { S: "ORG#a" }, seq: { N: "7" } })).toBe(2 + 5 + 3 + 2);
  });

  it("bills one write unit per started KB, at least one", () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(writeUnits(3000)).toBe(3);
  });
});

describe("cost per million runs", () => {
  const counts = { transitions: 3, handlerCalls: 1, dynamoWrites: 46, writeUnits: 80, s3Puts: 10 };

  it("prices each count at the published constants", () => {
    const est = estimateCost(counts, { advanceSeconds: 0.5, triggerSeconds: 0.02, writeUnitsBySize: false });
    const byItem = Object.fromEntries(est.lines.map((l) => [l.item.split(" (")[0], l.dollarsPerMillionRuns]));
    expect(byItem["Step Functions state transitions"]).toBeCloseTo(75, 6);
    expect(byItem["Lambda requests"]).toBeCloseTo(0.2, 6);
    expect(byItem["Lambda GB-s"]).toBeCloseTo(0.5 * 0.0000133334 * 1e6, 6);
    expect(byItem["DynamoDB WRUs"]).toBeCloseTo(46 * 0.625, 6);
    expect(byItem["S3 PUT requests"]).toBeCloseTo(50, 6);
    const engine = 75 + 0.2 + 0.5 * 13.3334 + 46 * 0.625 + 50;
    expect(est.engineTotal).toBeCloseTo(engine, 6);
    expect(est.withTrigger).toBeCloseTo(engine + 1 + 0.2 + 0.02 * 0.5 * 13.3334, 6);
  });

  it("prices the engine's own Lambda time apart from the tasks' own compute (the spawn floor's time)", () => {
    const est = estimateCost(counts, {
      advanceSeconds: 0.5,
      triggerSeconds: 0,
      writeUnitsBySize: false,
      taskSeconds: 0.3,
    });
    const byItem = Object.fromEntries(est.lines.map((l) => [l.item.split(" (")[0], l.dollarsPerMillionRuns]));
    expect(byItem["Lambda GB-s"]).toBeCloseTo(0.2 * 13.3334, 4);
    expect(byItem["tasks' own compute: Lambda GB-s"]).toBeCloseTo(0.3 * 13.3334, 4);
    expect(est.computeTotal).toBeCloseTo(0.3 * 13.3334, 4);
    // The orchestration total leaves the tasks' compute out.
    expect(est.engineTotal).toBeCloseTo(75 + 0.2 + 0.2 * 13.3334 + 46 * 0.625 + 50, 4);
    // A floor slower than the measured run leaves the engine no time, never a negative one.
    const slow = estimateCost(counts, {
      advanceSeconds: 0.2,
      triggerSeconds: 0,
      writeUnitsBySize: false,
      taskSeconds: 1,
    });
    const slowItems = Object.fromEntries(slow.lines.map((l) => [l.item.split(" (")[0], l.dollarsPerMillionRuns]));
    expect(slowItems["Lambda GB-s"]).toBe(0);
    expect(slow.computeTotal).toBeCloseTo(0.2 * 13.3334, 4);
  });

  it("prices DynamoDB by write units when item sizes are known", () => {
    const est = estimateCost(counts, { advanceSeconds: 0, triggerSeconds: 0, writeUnitsBySize: true });
    const dynamo = est.lines.find((l) => l.item.startsWith("DynamoDB"));
    expect(dynamo?.perRun).toBe(80);
    expect(dynamo?.dollarsPerMillionRuns).toBeCloseTo(80 * 0.625, 6);
  });

  it("keeps the constants of the pricing pages", () => {
    expect(PRICES.stepFunctionsPerTransition * 1000).toBeCloseTo(0.025, 12);
    expect(PRICES.lambdaPerRequest * 1e6).toBeCloseTo(0.2, 12);
    expect(PRICES.lambdaPerGbSecondArm64).toBe(0.0000133334);
    expect(PRICES.dynamoPerWriteUnit * 1e6).toBeCloseTo(0.625, 12);
    expect(PRICES.dynamoPerReadUnit * 1e6).toBeCloseTo(0.125, 12);
    expect(PRICES.s3PerPut * 1000).toBeCloseTo(0.005, 12);
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe("table and workflows", () => {
  it("aligns columns, numbers to the right", () => {
    const t = formatTable(
      ["name", "ms"],
      [
        ["a", "1.5"],
        ["longer", "100.0"],
      ],
    );
    expect(t.split("\n")).toEqual(["name       ms", "------  -----", "a         1.5", "longer  100.0"]);
  });

  it("defines a 1 → 8 → 1 diamond of commands and a chain of 10 scripts", () => {
    expect(diamond.nodes).toHaveLength(10);
    expect(diamond.nodes.filter((n) => n.needs?.includes("start"))).toHaveLength(8);
    expect(diamond.nodes.find((n) => n.id === "join")?.needs).toHaveLength(8);
    expect(chain.nodes).toHaveLength(10);
    expect(
      chain.nodes.every((n, i) => n.type === "script" && (i === 0 || n.needs?.[0] === chain.nodes[i - 1]?.id)),
    ).toBe(true);
    expect(CASES.map((c) => c.workflow)).toEqual([diamond, chain, diamondStandard]);
    // The same diamond, but for the join's timeout, which keeps it out of the Express lane.
    expect(diamondStandard.nodes.map((n) => (n.id === "join" ? { ...n, timeoutSeconds: undefined } : n))).toEqual(
      diamond.nodes.map((n) => (n.id === "join" ? { ...n, timeoutSeconds: undefined } : n)),
    );
    expect(diamondStandard.nodes.find((n) => n.id === "join")).toMatchObject({ timeoutSeconds: 600 });
    expect(CASES.filter((c) => c.label.includes("diamond"))).toHaveLength(1);
  });

  it("runs the floor of the chain: ten node processes in order, the counter reaches 10", async () => {
    const floor = await prepareFloor(chain);
    try {
      expect(await floor.run()).toEqual({ step: 10 });
    } finally {
      await floor.close();
    }
  });
});

describe("npm run bench -- --json", () => {
  it("prints one JSON object with each case's cost, counts, latency against the floor, throughput and lane", async () => {
    // One diamond run per figure and a 1 MiB hashing file: the shape is under test here, not the speed.
    const { stdout, stderr } = await execFileAsync(process.execPath, ["--import", "tsx", "bench/run.ts", "--json"], {
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        BENCH_RUNS: "1",
        BENCH_WARMUP: "1",
        BENCH_HASH_MIB: "1",
        BENCH_CASES: "diamond",
      },
      maxBuffer: 16 * 1024 * 1024,
    });
    const out = JSON.parse(stdout);
    expect(out.cases).toHaveLength(1);
    const diamondCase = out.cases[0];
    expect(diamondCase.name).toContain("diamond");
    expect(diamondCase).toMatchObject({
      lane: "express",
      transitions: 3,
      lambdaCalls: 1,
      runs: 1,
      failedRuns: 0,
    });
    for (const key of [
      "dollarsPerMillionRuns",
      "computeDollarsPerMillionRuns",
      "dynamoWrites",
      "writeUnits",
      "s3Puts",
      "p50Ms",
      "p95Ms",
      "floorP50Ms",
      "engineToFloorRatio",
      "runsPerSecondAt8",
    ])
      expect(Number.isFinite(diamondCase[key]), key).toBe(true);
    expect(diamondCase.p50Ms).toBeGreaterThan(0);
    expect(diamondCase.engineToFloorRatio).toBeCloseTo(diamondCase.p50Ms / diamondCase.floorP50Ms, 1);
    // The human-readable report is still printed, on stderr.
    expect(stderr).toContain("Estimated dollars per million runs");
  }, 600_000);
});

describe("Express pricing", () => {
  it("bills an Express run a request and its duration at 64 MB in 100 ms steps, and no transitions", () => {
    expect(expressBilledSeconds(1)).toBe(0.1);
    expect(expressBilledSeconds(100)).toBe(0.1);
    expect(expressBilledSeconds(101)).toBe(0.2);
    const counts = { transitions: 3, handlerCalls: 1, dynamoWrites: 46, writeUnits: 66, s3Puts: 0 };
    const est = estimateCost(counts, {
      advanceSeconds: 0,
      triggerSeconds: 0,
      writeUnitsBySize: true,
      lane: "express",
      expressSeconds: 0.5,
    });
    const byItem = Object.fromEntries(est.lines.map((l) => [l.item.split(" (")[0], l.dollarsPerMillionRuns]));
    expect(byItem["Step Functions state transitions"]).toBe(0);
    expect(byItem["Step Functions Express requests"]).toBeCloseTo(1, 6);
    expect(byItem["Step Functions Express GB-s"]).toBeCloseTo(0.5 * (64 / 1024) * 0.00001667 * 1e6, 6);
    expect(est.engineTotal).toBeCloseTo(1 + 0.5 * (64 / 1024) * 16.67 + 0.2 + 66 * 0.625, 4);
  });
});
