import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTask, type TaskSpec } from "../../shared/adapters/process/run-process.ts";
import { directSpawn, type Spawner, TaskSpawner } from "../../shared/adapters/process/task-spawner.ts";
import { systemClock } from "../../shared/domain/clock.ts";

const spec = (over: Partial<TaskSpec>): TaskSpec => ({
  kind: "command",
  source: "true",
  env: {},
  params: {},
  context: {},
  secrets: {},
  run: { id: "run_spawn", nodeId: "n", attempt: 1, workflow: "w" },
  timeoutMs: 30_000,
  ...over,
});

/** Is a process with this id running? A zombie (exited, not yet reaped by whoever adopted it) is not. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

// The same task attempts through both spawners (real processes): the outcome a task records does not depend on
// which process forked it.
const helper = new TaskSpawner();
const spawners: Array<[string, Spawner]> = [
  ["direct", directSpawn],
  ["helper", helper.spawn],
];

describe.each(spawners)("task processes spawned %s", (_name, spawner) => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "stepwise-spawn-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const run = (over: Partial<TaskSpec>, signal = new AbortController().signal) =>
    runTask(spec(over), root, systemClock, signal, spawner);

  it("runs a command with its env and work dir, keeping stdout, stderr and output variables", async () => {
    const out = await run({
      source: 'echo "hi $GREETING"; echo oops >&2; echo "x=1" >> "$STEPWISE_OUTPUT"; pwd',
      env: { GREETING: "there" },
    });
    expect(out.status).toBe("succeeded");
    expect(out.exitCode).toBe(0);
    expect(out.stdoutHead).toContain("hi there");
    expect(out.stdoutHead).toMatch(/\/work\n?$/);
    expect(out.stderrHead).toContain("oops");
    expect(out.outputVariables).toEqual({ x: { type: "string", value: "1" } });
    const log = await readFile(out.logPath, "utf8");
    expect(log).toContain("hi there");
    await out.cleanup();
  });

  it("runs a script and takes its result", async () => {
    const out = await run({
      kind: "script",
      source: "export default async ({ context }) => ({ step: (context.step ?? 0) + 1 });\n",
      context: { step: 4 },
    });
    expect(out.status).toBe("succeeded");
    expect(out.outputVariables.step).toEqual({ type: "number", value: 5 });
    await out.cleanup();
  });

  it("reports a failing exit code, and the no-action exit code", async () => {
    const failed = await run({ source: "echo broken >&2; exit 3" });
    expect(failed.status).toBe("failed");
    expect(failed.error?.message).toBe("the command exited with code 3: broken");
    const none = await run({ source: "echo 'nothing new' >&2; exit 78" });
    expect(none.status).toBe("no_action");
    expect(none.noActionReason).toBe("nothing new");
    for (const o of [failed, none]) await o.cleanup();
  });

  it("kills the task's whole process group on timeout and on cancel", async () => {
    // The command leaves a grandchild sleeping: the group kill must take it too.
    const source = 'sleep 30 & echo $! > "$HOME/child.pid"; wait';
    const timedOut = await run({ source, timeoutMs: 300 });
    expect(timedOut.status).toBe("failed");
    expect(timedOut.error?.code).toBe("timeout");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const cancelled = await run({ source }, ac.signal);
    expect(cancelled.status).toBe("cancelled");
    for (const o of [timedOut, cancelled]) {
      const pidFile = join(o.outDir, "..", "child.pid");
      expect(existsSync(pidFile)).toBe(true);
      const grandchild = Number(await readFile(pidFile, "utf8"));
      for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
      expect(alive(grandchild)).toBe(false);
      await o.cleanup();
    }
  });
});

describe("task spawner helper", () => {
  afterAll(() => helper.close());

  it("restarts after its helper process dies, failing the tasks it had in flight", async () => {
    const own = new TaskSpawner();
    try {
      const first = own.spawn(["/bin/sh", "-c", "sleep 30"], { cwd: tmpdir(), env: {} });
      const pid = await first.pid;
      expect(pid).toBeGreaterThan(0);
      // Kill the helper itself (the parent of the task).
      const helperPid = Number((await readFile(`/proc/${pid}/stat`, "utf8")).split(" ")[3]);
      process.kill(helperPid, "SIGKILL");
      const exit = await first.exited;
      expect(exit.spawnError?.message).toMatch(/spawner process exited/);
      const second = own.spawn(["/bin/sh", "-c", "echo again"], { cwd: tmpdir(), env: {} });
      let out = "";
      second.onOutput((_s, c) => {
        out += c.toString();
      });
      expect(await second.exited).toEqual({ code: 0 });
      expect(out).toBe("again\n");
    } finally {
      own.close();
    }
  });

  it("fails a task asked for after close", async () => {
    const own = new TaskSpawner();
    own.close();
    const t = own.spawn(["/bin/true"], { cwd: tmpdir(), env: {} });
    expect(await t.pid).toBeNull();
    expect((await t.exited).spawnError?.message).toMatch(/closed/);
  });
});
