// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${context.x} and ${params.x} are Stepwise references, not JS templates.
// Crash-restart: the real server is SIGKILLed while a task runs, started again on the same data dir, and the
// run carries on where its record says it is.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectIntactChain } from "../support/audit-chain.ts";
import { pollUntil } from "../support/poll.ts";
import { freePort, makeServerDirs, type ServerDirs, type ServerProcess, serverApi } from "../support/server-process.ts";
import type { Json } from "../support/stack.ts";

const KEY = "restart-test-platform-key-0123456789";

let dirs: ServerDirs;
let port: number;
let server: ServerProcess | null = null;

/** The real server on the test's data dir and port; task directories go under the test's temp dir. */
const startServer = () => dirs.start({ apiKey: KEY, port });

/** One request to the server on the test's port, whichever process serves it now. */
const api = (path: string, init: { method?: string; body?: unknown } = {}): Promise<Json> =>
  serverApi(`http://127.0.0.1:${port}`, KEY, path, init);

/** Pids of live (non-zombie) processes whose environment names this run. */
async function liveProcessesOf(runId: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, "utf8").catch(() => "");
    if (!environ.includes(`STEPWISE_RUN_ID=${runId}\0`)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    if (stat && !/\) Z /.test(stat)) pids.push(Number(entry));
  }
  return pids;
}

beforeAll(async () => {
  dirs = await makeServerDirs("stepwise-restart");
  port = await freePort();
});

afterAll(async () => {
  await server?.stop("SIGTERM");
  await dirs?.remove();
});

describe("crash and restart", () => {
  it("resumes a run interrupted by SIGKILL: it succeeds, each task once, the chain intact", async () => {
    const gate = join(dirs.dataDir, "gate");
    server = await startServer();
    await api("/api/workflows/resumable", {
      method: "PUT",
      body: {
        name: "resumable",
        nodes: [
          { id: "first", type: "command", command: 'echo first-output; echo "seen=1" > "$STEPWISE_OUTPUT"' },
          {
            id: "slow",
            type: "command",
            needs: ["first"],
            // Runs until the test lets it finish, so the kill surely lands while it runs, however slow the machine.
            command: 'echo slow-start; while [ ! -f "$GATE" ]; do sleep 0.1; done; sleep 1; echo slow-end',
            env: { GATE: gate },
            timeoutSeconds: 120,
          },
          {
            id: "last",
            type: "command",
            needs: ["slow"],
            command: 'echo "last-output $SEEN"',
            env: { SEEN: "${context.seen}" },
          },
        ],
      },
    });
    const { runId } = await api("/api/workflows/resumable/trigger", { method: "POST", body: {} });
    await pollUntil("slow to run", async () => {
      const run = await api(`/api/runs/${runId}`);
      return run.currentStateName === "slow" ? run : null;
    });

    await server.stop("SIGKILL");
    server = await startServer();
    expect(server.output()).toContain("resumed 1 run(s)");
    await writeFile(gate, "go");

    const run = await pollUntil("the run to end", async () => {
      const r = await api(`/api/runs/${runId}`);
      return ["succeeded", "failed", "cancelled", "no_action"].includes(r.status) ? r : null;
    });
    expect(run.status).toBe("succeeded");
    expect(run.error).toBeNull();
    expect(run.context.seen).toMatchObject({ type: "string", value: "1" });

    const tasks = (await api(`/api/runs/${runId}/tasks`)).items as Json[];
    expect(tasks.map((t) => t.nodeId)).toEqual(["first", "slow", "last"]);
    for (const t of tasks) expect(t.status, t.nodeId).toBe("succeeded");
    const byId = Object.fromEntries(tasks.map((t) => [t.nodeId, t]));
    expect(byId.first.attempts).toHaveLength(1);
    expect(byId.last.attempts).toHaveLength(1);
    expect(byId.last.stdout).toBe("last-output 1\n");

    const slow = byId.slow;
    expect(slow.attempts.map((a: Json) => a.status)).toEqual(["interrupted", "succeeded"]);
    expect(slow.attempts[0].error).toMatchObject({ code: "interrupted" });
    const numbers = slow.attempts.map((a: Json) => a.attempt);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(slow.attempt).toBe(numbers[numbers.length - 1]);
    expect(slow.stdout).toBe("slow-start\nslow-end\n");

    const logs = (await api(`/api/runs/${runId}/logs`)) as string;
    const count = (s: string) => logs.split("\n").filter((l) => l.endsWith(` ${s}`)).length;
    expect(count("first-output")).toBe(1);
    expect(count("last-output 1")).toBe(1);
    expect(count("slow-end")).toBe(1);
    // The finished attempt's lines once; the killed attempt's, at most once more.
    expect(count("slow-start")).toBeGreaterThanOrEqual(1);
    expect(count("slow-start")).toBeLessThanOrEqual(slow.attempts.length);

    const audit = (await api(`/api/runs/${runId}/audit`)).items as Json[];
    expectIntactChain(audit);
    expect(audit.filter((e) => e.type === "task.interrupted" && e.detail.nodeId === "slow")).toHaveLength(1);
    for (const node of ["first", "slow", "last"]) {
      const done = audit.filter((e) => e.detail.nodeId === node && e.to === "succeeded");
      expect(done, node).toHaveLength(1);
    }
    expect(audit.filter((e) => e.type === "run.transition" && e.to === "succeeded")).toHaveLength(1);

    // Every finished attempt's task directory is gone.
    const left = await readdir(join(dirs.tmpDir, "stepwise-tasks"));
    for (const node of ["first", "last"]) expect(left.filter((d) => d.startsWith(`${runId}-${node}-`))).toEqual([]);
    // The killed attempt's process group was stopped on restart and its directory removed too.
    expect(left.filter((d) => d.startsWith(`${runId}-slow-`))).toEqual([]);
    expect(await liveProcessesOf(runId)).toEqual([]);
  });
});
