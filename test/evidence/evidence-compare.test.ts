// Reproducibility: a rerun pinned by hash of a deterministic workflow compares identical; one that writes the time
// does not, and the report (API and `stepwise runs diff`) names the file that differed.
import { beforeAll, describe, expect, it } from "vitest";
import { cli, cliDir, type Json, putAndTrigger, runToEnd, useTestStack, waitForRun } from "./evidence-helpers.ts";

const DETERMINISTIC = {
  name: "ev-det",
  parameters: { n: { type: "number", default: 3 } },
  nodes: [
    { id: "make", type: "command", env: { N: `\${params.n}` }, command: "seq 1 $N > out/numbers.txt" },
    {
      id: "sum",
      type: "command",
      needs: ["make"],
      inputs: ["numbers.txt"],
      command:
        "awk '{s+=$1} END {print s}' in/numbers.txt > out/sum.txt && echo \"total=$(cat out/sum.txt)\" >> $STEPWISE_OUTPUT",
    },
  ],
};

const CLOCK = {
  name: "ev-clock",
  nodes: [
    { id: "stamp", type: "command", command: "date +%s%N > out/now.txt && echo fixed > out/fixed.txt" },
    { id: "use", type: "command", needs: ["stamp"], inputs: ["now.txt", "fixed.txt"], command: "cat in/fixed.txt" },
  ],
};

const t = useTestStack();
let dir: string;

beforeAll(async () => {
  dir = await cliDir(t);
});

describe("compare", () => {
  it("finds a rerun pinned by hash of a deterministic workflow identical", async () => {
    const { runId, definitionHash } = await putAndTrigger(t.api, DETERMINISTIC, { n: 4 });
    expect((await waitForRun(t.api, runId)).status).toBe("succeeded");
    const pinned = await t.api.call("POST", `/api/workflows/by-hash/${definitionHash}/trigger`, {
      parameters: { n: 4 },
    });
    expect(pinned.status).toBe(202);
    expect((await waitForRun(t.api, pinned.body.runId)).status).toBe("succeeded");

    const c = await t.api.get(`/api/runs/${runId}/compare/${pinned.body.runId}`);
    expect(c).toMatchObject({
      runId,
      otherRunId: pinned.body.runId,
      identical: true,
      definition: { match: true, run: definitionHash, other: definitionHash },
      parameters: { match: true, differs: [] },
    });
    expect(c.tasks.map((x: Json) => [x.nodeId, x.match, x.definition.match, x.inputs.match, x.outputs.match])).toEqual([
      ["make", true, true, true, true],
      ["sum", true, true, true, true],
    ]);

    const out = await cli(t, dir, "runs", "diff", runId, pinned.body.runId);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("identical: all 2 tasks match by hash");
  }, 30_000);

  it("names the file that differs when the workflow writes the time", async () => {
    const first = await runToEnd(t.api, CLOCK);
    expect(first.status).toBe("succeeded");
    const again = await t.api.call("POST", `/api/runs/${first.runId}/rerun`, {});
    expect(again.status).toBe(202);
    expect((await waitForRun(t.api, again.body.runId)).status).toBe("succeeded");

    const c = await t.api.get(`/api/runs/${first.runId}/compare/${again.body.runId}`);
    expect(c.identical).toBe(false);
    expect(c.definition.match).toBe(true);
    const stamp = c.tasks.find((x: Json) => x.nodeId === "stamp");
    expect(stamp.definition.match).toBe(true);
    expect(stamp.outputs.match).toBe(false);
    expect(stamp.outputs.differs.map((d: Json) => d.name)).toEqual(["now.txt"]);
    expect(stamp.differences).toEqual([
      expect.stringMatching(/^output file 'now.txt' differs \(sha256:\w+ vs sha256:\w+\)$/),
    ]);
    const use = c.tasks.find((x: Json) => x.nodeId === "use");
    expect(use.inputs.differs.map((d: Json) => d.name)).toEqual(["now.txt"]);
    expect(use.outputs.match).toBe(true);
    expect(c.summary).toBe("2 of 2 tasks differ");

    const out = await cli(t, dir, "runs", "diff", first.runId, again.body.runId);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain("stamp: output file 'now.txt' differs");
    expect(out.stdout).toContain("use: input file 'now.txt' differs");
    expect(out.stdout).not.toContain("fixed.txt");
    const json = await cli(t, dir, "runs", "diff", first.runId, again.body.runId, "--json");
    expect(JSON.parse(json.stdout).identical).toBe(false);
  }, 30_000);

  it("reports different definitions and parameters, and hides other orgs' runs", async () => {
    const a = await runToEnd(t.api, DETERMINISTIC, { n: 2 });
    const b = await runToEnd(t.api, CLOCK);
    const c = await t.api.get(`/api/runs/${a.runId}/compare/${b.runId}`);
    expect(c.identical).toBe(false);
    expect(c.definition.match).toBe(false);
    expect(c.tasks.find((x: Json) => x.nodeId === "make").differences).toContain(
      "the node is only in this run's definition",
    );
    const d = await runToEnd(t.api, DETERMINISTIC, { n: 5 });
    const p = await t.api.get(`/api/runs/${a.runId}/compare/${d.runId}`);
    expect(p.parameters.differs.map((x: Json) => x.name)).toEqual(["n"]);
    const org = await t.api.call("POST", "/api/orgs", { orgId: "ev-compare" });
    expect((await t.api.call("GET", `/api/runs/${a.runId}/compare/${d.runId}`, undefined, org.body.key)).status).toBe(
      404,
    );
  }, 30_000);
});
