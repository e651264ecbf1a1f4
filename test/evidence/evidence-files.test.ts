// Run files through dependent nodes, the integrity check on inputs, and lineage within and across runs.
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runFileKey } from "../../shared/evidence/run-files.ts";
import {
  API_KEY,
  cli,
  cliDir,
  type Json,
  putAndTrigger,
  runToEnd,
  useTestStack,
  waitForRun,
  waitForTask,
} from "./evidence-helpers.ts";

const FILES_WF = {
  name: "ev-files",
  parameters: { label: { type: "string", default: "hello" } },
  nodes: [
    {
      id: "produce",
      type: "command",
      env: { LABEL: `\${params.label}` },
      command:
        "mkdir -p out/data && printf 'report for %s\\n' \"$LABEL\" > out/data/report.txt && " +
        "head -c 3000000 /dev/urandom > out/big.bin && echo produced",
    },
    {
      id: "consume",
      type: "command",
      needs: ["produce"],
      inputs: ["data/report.txt", "big.bin"],
      command:
        "sha256sum in/data/report.txt in/big.bin > out/sums.txt && tr a-z A-Z < in/data/report.txt > out/upper.txt",
    },
  ],
};

const INTEGRITY_WF = {
  name: "ev-integrity",
  nodes: [
    { id: "produce", type: "command", command: "echo original > out/payload.txt" },
    { id: "pause", type: "wait", needs: ["produce"], seconds: 3 },
    { id: "consume", type: "command", needs: ["pause"], inputs: ["payload.txt"], command: "cat in/payload.txt" },
  ],
};

const HEX = /^sha256:[0-9a-f]{64}$/;
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

const t = useTestStack();
let runId: string;

/** Downloads a run file as a user would (following a redirect to storage) and returns `sha256sum` of the bytes. */
async function downloadAndSum(path: string): Promise<{ sum: string; size: number; redirected: boolean }> {
  const first = await fetch(`${t.stack.url}/api/runs/${runId}/files/${path}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
    redirect: "manual",
  });
  let res = first;
  if (first.status === 302) {
    // The presigned URL carries its own authorization: no bearer key goes to storage.
    res = await fetch(first.headers.get("location") as string);
  }
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const local = join(t.dataDir, `download-${path.replace(/\//g, "_")}`);
  await writeFile(local, bytes);
  const sum = execFileSync("sha256sum", [local], { encoding: "utf8" }).split(" ")[0] as string;
  return { sum: `sha256:${sum}`, size: bytes.length, redirected: first.status === 302 };
}

beforeAll(async () => {
  const run = await runToEnd(t.api, FILES_WF, { label: "north" });
  runId = run.runId;
  expect(run.status).toBe("succeeded");
}, 60_000);

describe("run files", () => {
  it("lists every file with hash, size and producer", async () => {
    const files = await t.api.get(`/api/runs/${runId}/files`);
    expect(files.items.map((f: Json) => [f.path, f.producedBy])).toEqual([
      ["big.bin", "produce"],
      ["data/report.txt", "produce"],
      ["sums.txt", "consume"],
      ["upper.txt", "consume"],
    ]);
    for (const f of files.items) expect(f.sha256).toMatch(HEX);
    expect(files.items[0].size).toBe(3_000_000);
  });

  it("serves bytes whose sha256sum matches the record (inline for small files, a redirect for large ones)", async () => {
    const files = await t.api.get(`/api/runs/${runId}/files`);
    for (const f of files.items) {
      const got = await downloadAndSum(f.path);
      expect(got.sum).toBe(f.sha256);
      expect(got.size).toBe(f.size);
      expect(got.redirected).toBe(f.size > 1024 * 1024);
    }
    const upper = await t.api.call("GET", `/api/runs/${runId}/files/upper.txt`);
    expect(upper.body).toBe("REPORT FOR NORTH\n");
    expect(upper.res.headers.get("x-stepwise-sha256")).toMatch(HEX);
  });

  it("places inputs under in/ with the hashes the producer recorded", async () => {
    const produce = await t.api.get(`/api/runs/${runId}/tasks/produce`);
    const consume = await t.api.get(`/api/runs/${runId}/tasks/consume`);
    expect(consume.inputs).toEqual(produce.outputs);
    // The consumer hashed what it found in in/ itself: the same hashes.
    const sums = (await t.api.call("GET", `/api/runs/${runId}/files/sums.txt`)).body as string;
    for (const f of produce.outputs) expect(sums).toContain(`${f.sha256.slice(7)}  in/${f.path}`);
  });

  it("records complete evidence for every attempt", async () => {
    const task = await t.api.get(`/api/runs/${runId}/tasks/produce`);
    expect(task.image).toMatch(/^sh /);
    expect(task.imageHash).toMatch(HEX);
    expect(task.command).toContain("out/data/report.txt");
    expect(task.codeHash).toMatch(HEX);
    expect(task.exitCode).toBe(0);
    expect(task.stdout).toBe("produced\n");
    expect(task.logSha256).toMatch(HEX);
    expect(task.startedAt).toMatch(MICRO);
    expect(task.endedAt).toMatch(MICRO);
    expect(typeof task.durationMs).toBe("number");
    expect(task.host).toBeTruthy();
    expect(task.outputs.map((o: Json) => o.path)).toEqual(["big.bin", "data/report.txt"]);
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0].outputs).toEqual(task.outputs);
  });

  it("keeps a failed attempt's files as evidence without making them run files", async () => {
    const run = await runToEnd(t.api, {
      name: "ev-retry-files",
      nodes: [
        {
          id: "flaky",
          type: "command",
          retry: { maxAttempts: 2, backoffSeconds: 0 },
          command:
            'echo "attempt $STEPWISE_ATTEMPT" > out/log.txt; ' +
            'if [ "$STEPWISE_ATTEMPT" = 1 ]; then echo half > out/partial.txt; exit 3; fi',
        },
      ],
    });
    expect(run.status).toBe("succeeded");
    const task = await t.api.get(`/api/runs/${run.runId}/tasks/flaky`);
    const [first, second] = task.attempts;
    expect([first.status, first.exitCode, second.status]).toEqual(["failed", 3, "succeeded"]);
    expect(first.outputs.map((o: Json) => o.path)).toEqual(["log.txt", "partial.txt"]);
    expect(second.outputs.map((o: Json) => o.path)).toEqual(["log.txt"]);
    expect(first.outputs[0].sha256).not.toBe(second.outputs[0].sha256);
    // The run's files are the succeeded attempt's: partial.txt stays evidence only.
    const files = await t.api.get(`/api/runs/${run.runId}/files`);
    expect(files.items.map((f: Json) => [f.path, f.sha256])).toEqual([["log.txt", second.outputs[0].sha256]]);
    const verify = await t.api.get(`/api/runs/${run.runId}/verify`);
    expect(verify).toMatchObject({ valid: true, problems: [] });
  });

  it("answers 404 for a path the run does not have and for another org's run", async () => {
    expect((await t.api.call("GET", `/api/runs/${runId}/files/nope.txt`)).status).toBe(404);
    const org = await t.api.call("POST", "/api/orgs", { orgId: "ev-other" });
    expect(org.status).toBe(201);
    expect((await t.api.call("GET", `/api/runs/${runId}/files`, undefined, org.body.key)).status).toBe(404);
  });
});

describe("export of a run with a large file", () => {
  it("is fetched through the redirect to storage and verifies offline", async () => {
    const dir = await cliDir(t);
    const out = await cli(t, dir, "runs", "export", runId, "-o", "large.tgz", "--json");
    expect(out.code).toBe(0);
    const info = JSON.parse(out.stdout);
    expect(info.bytes).toBeGreaterThan(3_000_000);
    expect(info.root).toBe((await t.api.get(`/api/runs/${runId}`)).root);
    const first = await t.api.call("GET", `/api/runs/${runId}/export`);
    expect(first.status).toBe(302);
    const verified = await cli(t, dir, "verify", "large.tgz", "--json");
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, checked: { files: 4 } });
  }, 30_000);
});

describe("input integrity", () => {
  it("fails the reading task with an integrity error naming the file when its stored bytes changed", async () => {
    const { runId: id } = await putAndTrigger(t.api, INTEGRITY_WF);
    await waitForTask(t.api, id, "produce", (task) => task.status === "succeeded");
    // Behind the service's back: the stored object of the upstream file is replaced before the reader starts.
    await t.stack.deps.blobs.put(runFileKey("default", id, "produce", 1, "payload.txt"), "tampered\n");
    const run = await waitForRun(t.api, id);
    expect(run.status).toBe("failed");
    const consume = await t.api.get(`/api/runs/${id}/tasks/consume`);
    expect(consume.status).toBe("failed");
    expect(consume.error.code).toBe("integrity_failed");
    expect(consume.error.message).toContain("payload.txt");
    expect(consume.error.message).toContain("produce");
    // The failed attempt is evidence too: what it would have run, and where.
    expect(consume.attempts).toHaveLength(1);
    expect(consume.attempts[0].codeHash).toMatch(HEX);
    expect(consume.attempts[0].host).toBeTruthy();
    expect(consume.attempts[0].inputs).toEqual([]);
  }, 30_000);
});

describe("lineage", () => {
  it("draws parameters → tasks → files → tasks within a run", async () => {
    const g = await t.api.get(`/api/runs/${runId}/lineage`);
    const ids = g.nodes.map((n: Json) => n.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "parameter:label",
        "task:produce",
        "task:consume",
        "file:produce/data/report.txt",
        "file:produce/big.bin",
        "file:consume/sums.txt",
        "file:consume/upper.txt",
      ]),
    );
    const kinds = Object.fromEntries(g.nodes.map((n: Json) => [n.id, n.kind]));
    expect(kinds["parameter:label"]).toBe("parameter");
    expect(kinds["file:consume/sums.txt"]).toBe("file");
    const edges = g.edges.map((e: Json) => `${e.from} -> ${e.to}`);
    expect(edges).toEqual(
      expect.arrayContaining([
        "parameter:label -> task:produce",
        "task:produce -> file:produce/data/report.txt",
        "file:produce/data/report.txt -> task:consume",
        "file:produce/big.bin -> task:consume",
        "task:consume -> file:consume/upper.txt",
        "task:produce -> task:consume",
      ]),
    );
    expect(edges).not.toContain("parameter:label -> task:consume");
  });

  it("finds every run and task of the org that produced or read a content, and none of another org's", async () => {
    const again = await runToEnd(t.api, FILES_WF, { label: "north" });
    expect(again.status).toBe("succeeded");
    const files = await t.api.get(`/api/runs/${runId}/files`);
    const report = files.items.find((f: Json) => f.path === "data/report.txt");
    const lin = await t.api.get(`/api/files/${report.sha256}/lineage`);
    expect(lin.sha256).toBe(report.sha256);
    const uses = lin.items.map((i: Json) => `${i.runId} ${i.nodeId} ${i.role} ${i.path}`).sort();
    expect(uses).toEqual(
      [
        `${runId} produce produced data/report.txt`,
        `${runId} consume read data/report.txt`,
        `${again.runId} produce produced data/report.txt`,
        `${again.runId} consume read data/report.txt`,
      ].sort(),
    );
    // Newest run first.
    expect(lin.items[0].runId).toBe(again.runId);
    // Bare hex works too; a bad hash is a 400; another org sees nothing.
    expect((await t.api.get(`/api/files/${report.sha256.slice(7)}/lineage`)).items).toHaveLength(4);
    expect((await t.api.call("GET", "/api/files/not-a-hash/lineage")).status).toBe(400);
    const org = await t.api.call("POST", "/api/orgs", { orgId: "ev-lineage" });
    expect((await t.api.get(`/api/files/${report.sha256}/lineage`, org.body.key)).items).toEqual([]);
  }, 30_000);
});
