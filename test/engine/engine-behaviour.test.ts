// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${context.x} and ${params.x} are Stepwise references, not JS templates.
// How the engine runs workflows, observed through the HTTP API of the embedded stack.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIsoMicro } from "../../shared/domain/clock.ts";
import { type Json, MICRO_ISO, processGroup, startStack, type TestStack } from "../support/stack.ts";

let s: TestStack;
let scratch: string;
const SECRET = "do-not-leak-7c1f";

beforeAll(async () => {
  // The engine's own environment must not reach tasks.
  process.env.STEPWISE_TEST_SECRET = SECRET;
  s = await startStack();
  scratch = await mkdtemp(join(tmpdir(), "stepwise-engine-"));
});
afterAll(async () => {
  delete process.env.STEPWISE_TEST_SECRET;
  await s?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const ms = (iso: string) => parseIsoMicro(iso);
const cmd = (id: string, command: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: "command",
  command,
  ...extra,
});
const script = (id: string, code: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: "script",
  runtime: "node",
  code,
  ...extra,
});

describe.concurrent("the engine", () => {
  it("runs independent nodes in parallel (a diamond of four overlaps)", async () => {
    // Each middle node marks itself present, then waits until all four are: run one after another, the first
    // would never see the others and would time out. So success proves they all ran at the same time.
    const barrier = join(scratch, "barrier");
    await mkdir(barrier);
    const wait =
      'touch "$BARRIER/$STEPWISE_NODE_ID"; i=0; while [ "$(ls "$BARRIER" | wc -l)" -lt 4 ]; do ' +
      "i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.1; done; sleep 1";
    const mids = ["m1", "m2", "m3", "m4"];
    const { run, tasks } = await s.runToEnd({
      name: "diamond",
      nodes: [
        cmd("start", "echo go"),
        ...mids.map((id) => cmd(id, wait, { needs: ["start"], env: { BARRIER: barrier }, timeoutSeconds: 60 })),
        cmd("end", "echo done", { needs: mids }),
      ],
    });
    expect(run).toMatchObject({ status: "succeeded", error: null });
    const mid = mids.map((id) => tasks[id] as Json);
    for (const t of mid) expect(t.status).toBe("succeeded");
    const latestStart = Math.max(...mid.map((t) => ms(t.startedAt)));
    const earliestEnd = Math.min(...mid.map((t) => ms(t.endedAt)));
    // The recorded evidence shows it too: all four were running at one moment.
    expect(latestStart).toBeLessThan(earliestEnd);
    expect(ms(tasks.end.startedAt)).toBeGreaterThanOrEqual(Math.max(...mid.map((t) => ms(t.endedAt))));
    expect(ms(tasks.start.endedAt)).toBeLessThanOrEqual(Math.min(...mid.map((t) => ms(t.startedAt))));
  });

  it("retries a failing command and records every attempt", async () => {
    const counter = join(scratch, "flaky-count");
    const command =
      'n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$COUNTER"; ' +
      'echo "attempt $n"; if [ $n -lt 3 ]; then echo "not yet $n" >&2; exit 1; fi';
    const { run, tasks } = await s.runToEnd({
      name: "flaky",
      nodes: [cmd("flaky", command, { env: { COUNTER: counter }, retry: { maxAttempts: 3, backoffSeconds: 0 } })],
    });
    expect(run).toMatchObject({ status: "succeeded", error: null });
    const t = tasks.flaky;
    expect(t).toMatchObject({ status: "succeeded", attempt: 3, exitCode: 0, stdout: "attempt 3\n" });
    expect(t.attempts.map((a: Json) => [a.attempt, a.status, a.exitCode])).toEqual([
      [1, "failed", 1],
      [2, "failed", 1],
      [3, "succeeded", 0],
    ]);
    expect(t.attempts[0].stderr).toBe("not yet 1\n");
    expect(t.attempts[1].error.message).toContain("not yet 2");
    for (const a of t.attempts) expect(a.startedAt).toMatch(MICRO_ISO);
    expect(await readFile(counter, "utf8")).toBe("3\n");

    const logs = (await s.api(`/api/runs/${run.runId}/logs`)).text;
    for (const n of [1, 2, 3]) expect(logs.split(`attempt ${n}\n`).length - 1).toBe(1);
    const audit = (await s.json(`/api/runs/${run.runId}/audit`)).items as Json[];
    expect(audit.filter((e) => e.type === "task.retry")).toHaveLength(2);
  });

  it("fails the run with the reason when every attempt fails", async () => {
    const { run, tasks } = await s.runToEnd({
      name: "always-fails",
      nodes: [
        cmd("broken", "echo 'disk on fire' >&2; exit 3", { retry: { maxAttempts: 2, backoffSeconds: 0 } }),
        cmd("never", "echo never", { needs: ["broken"] }),
      ],
    });
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ nodeId: "broken", code: "task_failed" });
    expect(run.error.message).toContain("exited with code 3");
    expect(run.error.message).toContain("disk on fire");
    expect(tasks.broken.status).toBe("failed");
    expect(tasks.broken.attempts.map((a: Json) => a.status)).toEqual(["failed", "failed"]);
    expect(tasks.broken.exitCode).toBe(3);
    expect(tasks.never.status).toBe("skipped");
    expect(run.completedAt).toMatch(MICRO_ISO);
  });

  it("stops a task at its timeout and fails the run", async () => {
    const pidFile = join(scratch, "timeout.pid");
    const { run, tasks } = await s.runToEnd({
      name: "too-slow",
      nodes: [cmd("slow", 'echo $$ > "$PID_FILE"; sleep 10', { timeoutSeconds: 1, env: { PID_FILE: pidFile } })],
    });
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ code: "timeout", nodeId: "slow" });
    expect(run.error.message).toMatch(/timed out after 1s/);
    expect(tasks.slow.status).toBe("failed");
    expect(tasks.slow.error).toMatchObject({ code: "timeout" });
    expect(tasks.slow.durationMs).toBeLessThan(10_000);
    const pgid = Number(await readFile(pidFile, "utf8"));
    await s.waitFor(
      "the timed-out task's processes to end",
      async () => (await processGroup(pgid)).length === 0,
      10_000,
    );
  });

  it("ends the run as no_action when a script returns $noAction; later nodes are skipped", async () => {
    const { run, tasks } = await s.runToEnd({
      name: "nothing-script",
      nodes: [
        script("check", 'export default async () => ({ "$noAction": "nothing new", seen: 0 })'),
        cmd("process", "echo processing", { needs: ["check"] }),
        cmd("publish", "echo publishing", { needs: ["process"] }),
      ],
    });
    expect(run.status).toBe("no_action");
    expect(run.noActionReason).toBe("nothing new");
    expect(run.error).toBeNull();
    expect(tasks.check.status).toBe("succeeded");
    expect(tasks.process.status).toBe("skipped");
    expect(tasks.publish.status).toBe("skipped");
    expect(run.context).not.toHaveProperty("$noAction");
  });

  it("ends the run as no_action when a command exits 78", async () => {
    const { run, tasks } = await s.runToEnd({
      name: "nothing-command",
      nodes: [
        cmd("check", "echo 'no new files' >&2; exit 78"),
        cmd("process", "echo processing", { needs: ["check"] }),
      ],
    });
    expect(run.status).toBe("no_action");
    expect(run.noActionReason).toBe("no new files");
    expect(tasks.check).toMatchObject({ status: "succeeded", exitCode: 78 });
    expect(tasks.process.status).toBe("skipped");
  });

  it("fails a node that writes a context key with another type than its first write, naming the key", async () => {
    const { run, tasks } = await s.runToEnd({
      name: "type-clash",
      nodes: [
        script("count", "export default async () => ({ total: 1 })"),
        cmd("recount", 'echo "total=two" > "$STEPWISE_OUTPUT"', {
          needs: ["count"],
          retry: { maxAttempts: 3, backoffSeconds: 0 },
        }),
      ],
    });
    expect(run.status).toBe("failed");
    expect(tasks.recount.status).toBe("failed");
    // A type error is not something a retry fixes.
    expect(tasks.recount.attempts).toHaveLength(1);
    expect(run.error).toMatchObject({ code: "context_type", nodeId: "recount" });
    expect(run.error.message).toContain("'total'");
    expect(run.error.message).toContain("number");
    expect(run.error.message).toContain("string");
    expect(run.context.total).toMatchObject({ type: "number", value: 1 });
  });

  it("fails a task whose $STEPWISE_OUTPUT has a garbage line, naming the line", async () => {
    const { run, tasks } = await s.runToEnd({
      name: "garbage-out",
      nodes: [cmd("emit", 'printf "ok=1\\nthis is not a pair\\n" > "$STEPWISE_OUTPUT"')],
    });
    expect(run.status).toBe("failed");
    expect(tasks.emit.status).toBe("failed");
    expect(tasks.emit.exitCode).toBe(0);
    expect(run.error.code).toBe("invalid_output");
    expect(run.error.message).toContain("line 2");
    expect(run.context).toEqual({});
  });

  it("fails a script that throws and keeps its stderr", async () => {
    const { run, tasks } = await s.runToEnd({
      name: "crashing",
      nodes: [script("boom", 'export default async () => { throw new Error("kaboom in script"); }')],
    });
    expect(run.status).toBe("failed");
    expect(tasks.boom.status).toBe("failed");
    expect(tasks.boom.exitCode).not.toBe(0);
    expect(tasks.boom.stderr).toContain("kaboom in script");
    expect(run.error.nodeId).toBe("boom");
  });

  it("runs tasks in a clean environment with HOME in a task directory that is removed afterwards", async () => {
    const { run, tasks } = await s.runToEnd({
      name: "clean-env",
      nodes: [cmd("env", 'env | sort; echo "home=$HOME"; pwd')],
    });
    expect(run).toMatchObject({ status: "succeeded", error: null });
    const out: string = tasks.env.stdout;
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain("STEPWISE_TEST_SECRET");
    expect((await s.api(`/api/runs/${run.runId}/logs`)).text).not.toContain(SECRET);
    const names = out
      .split("\n")
      .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l) && !l.startsWith("home="))
      .map((l) => l.slice(0, l.indexOf("=")));
    const allowed = ["PATH", "HOME", "TMPDIR", "LANG", "TZ", "PWD", "SHLVL", "_", "OLDPWD"];
    for (const n of names) expect(allowed.includes(n) || n.startsWith("STEPWISE_"), n).toBe(true);
    for (const n of ["STEPWISE_RUN_ID", "STEPWISE_NODE_ID", "STEPWISE_ATTEMPT", "STEPWISE_OUTPUT"])
      expect(names).toContain(n);
    expect(names.some((n) => n.startsWith("AWS_") || n === "NODE_OPTIONS" || n === "VITEST")).toBe(false);
    expect(out).toContain(`STEPWISE_RUN_ID=${run.runId}`);

    const home = /home=(.*)/.exec(out)?.[1] ?? "";
    expect(home.startsWith(s.workRoot)).toBe(true);
    expect(home).toContain(run.runId);
    expect(out.trimEnd().split("\n").pop()).toBe(home); // the task starts in its HOME
    expect(existsSync(home)).toBe(false);
    expect((await readdir(s.workRoot)).filter((d) => d.startsWith(run.runId))).toEqual([]);
  });

  it("waits at wait nodes, inline and through the state machine's Wait state", async () => {
    const { run, tasks } = await s.runToEnd({
      name: "waiting",
      nodes: [
        cmd("before", "echo before"),
        { id: "pause", type: "wait", needs: ["before"], seconds: 1 },
        cmd("middle", "echo middle", { needs: ["pause"] }),
        { id: "long-pause", type: "wait", needs: ["middle"], seconds: 3 },
        cmd("after", "echo after", { needs: ["long-pause"] }),
      ],
    });
    expect(run).toMatchObject({ status: "succeeded", error: null });
    for (const [wait, next, seconds] of [
      ["pause", "middle", 1],
      ["long-pause", "after", 3],
    ] as const) {
      expect(tasks[wait].status).toBe("succeeded");
      expect(tasks[wait].type).toBe("wait");
      expect(tasks[wait].durationMs).toBeGreaterThanOrEqual(seconds * 1000 - 5);
      expect(ms(tasks[next].startedAt)).toBeGreaterThanOrEqual(ms(tasks[wait].endedAt));
    }
    expect(ms(tasks.pause.startedAt)).toBeGreaterThanOrEqual(ms(tasks.before.endedAt));
  });

  it("interpolates ${context.x}, ${params.y} and ${run.id} into env; a reference to nothing fails the node", async () => {
    const { run, tasks } = await s.runToEnd(
      {
        name: "interp",
        parameters: { region: { type: "string", required: true }, n: { type: "number", default: 4 } },
        nodes: [
          script("plan", "export default async ({ params, run }) => ({ size: params.n * 2, tag: run.id })"),
          cmd("use", 'echo "size=$SIZE region=$REGION run=$RUN tag=$TAG"', {
            needs: ["plan"],
            env: { SIZE: "${context.size}", REGION: "${params.region}", RUN: "${run.id}", TAG: "${context.tag}" },
          }),
        ],
      },
      { region: "eu-west" },
    );
    expect(run).toMatchObject({ status: "succeeded", error: null });
    expect(tasks.use.stdout).toBe(`size=8 region=eu-west run=${run.runId} tag=${run.runId}\n`);

    const broken = await s.runToEnd({
      name: "interp-missing",
      nodes: [cmd("use", "echo $X", { env: { X: "${context.nowhere}" } })],
    });
    expect(broken.run.status).toBe("failed");
    expect(broken.tasks.use.status).toBe("failed");
    expect(broken.run.error.message).toContain("${context.nowhere}");
  });

  it("gives scripts params, context and run, and reads their context on", async () => {
    const { run, tasks } = await s.runToEnd(
      {
        name: "script-io",
        parameters: { who: { type: "string", default: "ada" } },
        nodes: [
          script("one", "export default async () => ({ greeting: 'hello', flags: { a: true } })"),
          script(
            "two",
            "export default async ({ params, context, run }) => ({ message: `${context.greeting} ${params.who}`, " +
              "node: run.nodeId, hasFlags: context.flags.a })",
            { needs: ["one"] },
          ),
        ],
      },
      {},
    );
    expect(run).toMatchObject({ status: "succeeded", error: null });
    expect(tasks.two.outputVariables).toEqual({
      message: { type: "string", value: "hello ada" },
      node: { type: "string", value: "two" },
      hasFlags: { type: "boolean", value: true },
    });
    expect(run.context.flags).toEqual({ type: "json", value: { a: true }, writtenBy: "one" });
  });
});
