// Unit tests of the evidence pieces that need no stack: the tar format, run file lists, lineage parameter edges.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { TaskRecord } from "../../shared/domain/records.ts";
import { pendingTask } from "../../shared/domain/task-records.ts";
import type { WorkflowNode } from "../../shared/domain/workflow.ts";
import { parametersReadBy } from "../../shared/evidence/lineage.ts";
import { currentFiles, normalizeRunPath, producedFiles } from "../../shared/evidence/run-files.ts";
import { readTar, TarWriter } from "../../shared/evidence/tar.ts";

async function pack(entries: Array<{ name: string; data: Buffer; stream?: boolean }>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const tar = new TarWriter(out);
  for (const e of entries) {
    if (e.stream) {
      const data = e.data;
      await tar.add(
        e.name,
        (async function* () {
          for (let i = 0; i < data.length; i += 1000) yield data.subarray(i, i + 1000);
        })(),
        data.length,
      );
    } else await tar.add(e.name, e.data);
  }
  await tar.finish();
  return Buffer.concat(chunks);
}

async function* chunked(buf: Buffer, size: number) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe("tar", () => {
  const long = `files/node/1/${"deep/".repeat(30)}report.txt`;
  const entries = [
    { name: "bundle.json", data: Buffer.from('{"a":1}\n') },
    { name: long, data: Buffer.from("long name\n") },
    { name: "files/n/1/résumé ✓.txt", data: Buffer.from("unicode\n") },
    { name: "files/n/1/big.bin", data: Buffer.alloc(70_000, 7), stream: true },
    { name: "empty.txt", data: Buffer.alloc(0) },
  ];

  it("round-trips names of any length and script, streamed bodies and empty files", async () => {
    const tar = await pack(entries);
    expect(tar.length % 512).toBe(0);
    const got: Array<{ name: string; data: Buffer }> = [];
    for await (const e of readTar(chunked(tar, 333))) {
      const parts: Buffer[] = [];
      for await (const c of e.body) parts.push(c);
      got.push({ name: e.name, data: Buffer.concat(parts) });
    }
    expect(got.map((g) => g.name)).toEqual(entries.map((e) => e.name));
    for (const [i, g] of got.entries()) expect(g.data.equals(entries[i]?.data as Buffer)).toBe(true);
  });

  it("skips what a reader leaves unread, even when it stops part way", async () => {
    const tar = await pack(entries);
    const names: string[] = [];
    for await (const e of readTar(chunked(tar, 4096))) {
      names.push(e.name);
      for await (const _ of e.body) break;
    }
    expect(names).toEqual(entries.map((e) => e.name));
  });

  it("refuses a stream that is not the size announced, and a corrupt header", async () => {
    const tar = new TarWriter(new PassThrough());
    await expect(
      tar.add(
        "x",
        (async function* () {
          yield Buffer.from("abc");
        })(),
        5,
      ),
    ).rejects.toThrow("has 3 bytes, not the 5 announced");
    const good = await pack([{ name: "a.txt", data: Buffer.from("a") }]);
    good[10] = 0x41;
    await expect(async () => {
      for await (const _ of readTar(chunked(good, 512))) {
        // read all
      }
    }).rejects.toThrow("checksum");
  });
});

const task = (nodeId: string, endedAt: string, outputs: Array<[string, string]>): TaskRecord => ({
  ...pendingTask({ id: nodeId, type: "command", command: "true" } as WorkflowNode),
  status: "succeeded",
  attempt: 1,
  attempts: [
    {
      ...pendingTask({ id: nodeId, type: "command", command: "true" } as WorkflowNode),
      attempt: 1,
      status: "succeeded",
      endedAt,
      outputs: outputs.map(([path, c]) => ({ path, sha256: `sha256:${c.repeat(64)}`, size: 1 })),
    },
  ],
});

describe("run files", () => {
  it("keeps every version as evidence and shows the later writer of a path", () => {
    const tasks = [
      task("late", "2026-11-21T10:00:02.000000Z", [["shared.txt", "b"]]),
      task("early", "2026-11-21T10:00:01.000000Z", [
        ["shared.txt", "a"],
        ["only-early.txt", "c"],
      ]),
    ];
    expect(producedFiles(tasks).map((f) => `${f.producedBy}:${f.path}`)).toEqual([
      "early:only-early.txt",
      "early:shared.txt",
      "late:shared.txt",
    ]);
    const current = currentFiles(tasks);
    expect([...current.keys()]).toEqual(["only-early.txt", "shared.txt"]);
    expect(current.get("shared.txt")?.producedBy).toBe("late");
  });

  it("accepts relative paths only", () => {
    expect(normalizeRunPath("./a//b.txt")).toBe("a/b.txt");
    expect(() => normalizeRunPath("../secret")).toThrow("not a relative file path");
    expect(() => normalizeRunPath("/etc/passwd")).toThrow("not a relative file path");
    expect(() => normalizeRunPath("a/../../b")).toThrow("not a relative file path");
  });
});

describe("lineage parameter edges", () => {
  const names = ["day", "limit", "dry"];
  it("links a command to the parameters its env interpolates", () => {
    const node = { id: "c", type: "command", command: "echo $D", env: { D: `\${params.day}` } } as WorkflowNode;
    expect(parametersReadBy(node, names)).toEqual(["day"]);
  });
  it("links a script to the parameters it names, or to all when it takes params whole", () => {
    const named = { id: "s", type: "script", runtime: "node", code: 'x => x.params.limit + x.params["dry"]' };
    expect(parametersReadBy(named as WorkflowNode, names)).toEqual(["limit", "dry"]);
    const whole = { id: "s", type: "script", runtime: "node", code: "({ params }) => send(params)" };
    expect(parametersReadBy(whole as WorkflowNode, names)).toEqual(names);
    const none = { id: "s", type: "script", runtime: "node", code: "() => ({})" };
    expect(parametersReadBy(none as WorkflowNode, names)).toEqual([]);
  });
});
