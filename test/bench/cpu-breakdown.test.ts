import { describe, expect, it } from "vitest";
import { cpuBreakdown } from "../../bench/cpu-breakdown.ts";

describe("CPU profile breakdown", () => {
  it("sums each node's self time into its part, largest first, with shares of the total", () => {
    const node = (id: number, url: string, functionName = "f") => ({ id, callFrame: { url, functionName } });
    const rows = cpuBreakdown({
      nodes: [
        node(1, "node:internal/child_process", "ChildProcess.spawn"),
        node(2, "file:///x/node_modules/dynalite/index.js"),
        node(3, "", "(garbage collector)"),
        node(4, "file:///x/node_modules/@smithy/signature-v4/dist-cjs/index.js"),
        node(5, "file:///x/shared/engine/advance-run.ts"),
      ],
      // Microseconds per sample: 3 ms of spawns, 1 ms each of the rest.
      samples: [1, 1, 1, 2, 3, 4, 5],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000],
    });
    expect(rows[0]).toEqual({ group: "process spawns (fork/exec in this process)", ms: 3, share: 3 / 7 });
    expect(Object.fromEntries(rows.map((r) => [r.group, r.ms]))).toMatchObject({
      "DynamoDB emulator (dynalite)": 1,
      "garbage collection": 1,
      "AWS SDK: SigV4 signing": 1,
      "project code (shared, functions, local)": 1,
    });
  });
});
