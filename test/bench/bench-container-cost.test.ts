// The bench's cost model for container nodes: the extra transitions and Lambda requests of the task-token wait, the
// ECS calls, and the Fargate task with its one-minute minimum.
import { describe, expect, it } from "vitest";
import {
  CONTAINER_NODE_EXTRAS,
  containerNodeCost,
  countsPerRun,
  estimateCost,
  FARGATE_PRICES,
  fargateTaskDollars,
} from "../../bench/stats.ts";
import { CostMeter } from "../../shared/ports/metrics.ts";

const byItem = (lines: { item: string; perRun: number; dollarsPerMillionRuns: number }[]) =>
  Object.fromEntries(lines.map((l) => [l.item.split(" (")[0], l]));

describe("container nodes in the cost model", () => {
  it("adds the wait's transitions and Lambda requests, one RunTask, and the Fargate task per node", () => {
    const lines = byItem(containerNodeCost({ nodes: 2, taskSeconds: 120 }));
    expect(lines["container: extra Step Functions state transitions"]).toMatchObject({ perRun: 6 });
    expect(lines["container: extra Step Functions state transitions"]?.dollarsPerMillionRuns).toBeCloseTo(150, 6);
    expect(lines["container: extra Lambda requests"]?.dollarsPerMillionRuns).toBeCloseTo(1.2, 6);
    expect(lines["container: ECS RunTask requests"]).toEqual({
      item: "container: ECS RunTask requests",
      perRun: 2,
      dollarsPerMillionRuns: 0,
    });
    expect(lines["container: ECS DescribeTasks requests"]?.perRun).toBe(0);
    // 0.25 vCPU and 1 GB for two minutes, twice.
    const task = (120 / 3600) * (0.25 * 0.04048 + 1 * 0.004445);
    expect(lines["container: Fargate task"]?.dollarsPerMillionRuns).toBeCloseTo(2 * task * 1e6, 6);
    expect(CONTAINER_NODE_EXTRAS).toEqual({ transitions: 3, handlerCalls: 3, ecsRunTasks: 1, ecsDescribeTasks: 0 });
  });

  it("bills a short task Fargate's one-minute minimum", () => {
    const size = { vcpu: 1, memoryGb: 2 };
    expect(fargateTaskDollars(5, size)).toBeCloseTo(fargateTaskDollars(FARGATE_PRICES.minimumSeconds, size), 12);
    expect(fargateTaskDollars(90, size)).toBeCloseTo((90 / 3600) * (0.04048 + 2 * 0.004445), 12);
  });

  it("prices the ECS tasks a meter counted, and lists no ECS line when none were counted", () => {
    const meter = new CostMeter();
    const before = { ...meter.snapshot(), writeUnits: 0 };
    meter.transitions += 12;
    meter.ecsRunTasks += 2;
    meter.ecsDescribeTasks += 1;
    const counts = countsPerRun(before, { ...meter.snapshot(), writeUnits: 0 }, 2);
    expect(counts).toMatchObject({ transitions: 6, ecsRunTasks: 1, ecsDescribeTasks: 0.5 });
    const est = estimateCost(counts, {
      advanceSeconds: 0,
      triggerSeconds: 0,
      writeUnitsBySize: false,
      fargateTaskSeconds: 300,
    });
    const lines = byItem(est.lines);
    expect(lines["ECS RunTask requests"]?.perRun).toBe(1);
    expect(lines["ECS DescribeTasks requests"]?.perRun).toBe(0.5);
    const fargate = (300 / 3600) * (0.25 * 0.04048 + 0.004445) * 1e6;
    expect(lines["Fargate tasks"]?.dollarsPerMillionRuns).toBeCloseTo(fargate, 6);
    expect(est.engineTotal).toBeCloseTo(6 * 25 + fargate, 6);

    const plain = estimateCost(
      { transitions: 3, handlerCalls: 1, dynamoWrites: 0, writeUnits: 0, s3Puts: 0 },
      { advanceSeconds: 0, triggerSeconds: 0, writeUnitsBySize: false },
    );
    expect(plain.lines.some((l) => l.item.includes("ECS") || l.item.includes("Fargate"))).toBe(false);
  });
});
