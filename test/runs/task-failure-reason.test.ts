// A failing script or command says why it failed: the thrown error's name and message, or the last stderr line
// that means something, never Node's version banner ("Node.js v20.20.2") that follows an uncaught error.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { type Json, startStack, type TestStack } from "../support/stack.ts";

let stack: TestStack;
let workDir: string;

beforeAll(async () => {
  stack = await startStack();
  workDir = await mkdtemp(join(tmpdir(), "stepwise-failure-cli-"));
});

afterAll(async () => {
  await stack?.stop();
  await rm(workDir, { recursive: true, force: true });
});

const script = (id: string, code: string) => ({ id, type: "script", runtime: "node", code });

/** Runs a one-node workflow to its end; returns the run and the node's task. */
async function failOne(name: string, node: Record<string, unknown>): Promise<{ run: Json; task: Json }> {
  const { run, tasks } = await stack.runToEnd({ name, nodes: [node] });
  return { run, task: tasks[node.id as string] };
}

describe("why a task failed", () => {
  it("names the error a script threw, with its message, on the run and its task", async () => {
    const { run, task } = await failOne(
      "throws-type-error",
      script("calc", "export default async () => { const x = 1; return { y: x() }; }"),
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ nodeId: "calc", code: "task_failed" });
    expect(run.error.message).toBe("the script exited with code 1: TypeError: x is not a function");
    expect(task.error.message).toBe(run.error.message);
    expect(run.error.message).not.toMatch(/Node\.js v/);
    // The stack trace is still in the logs for whoever digs in.
    const logs = (await stack.api(`/api/runs/${run.runId}/logs`)).text;
    expect(logs).toMatch(/calc ! TypeError: x is not a function/);
    expect(logs).toMatch(/calc ! \s+at /);
  });

  it("names a thrown non-Error value, a throw at import time and a missing default export", async () => {
    const cases: Array<[string, string, string]> = [
      ["throws-string", "export default async () => { throw 'out of coffee'; }", "Error: out of coffee"],
      [
        "throws-at-import",
        "throw new RangeError('bad setup');\nexport default async () => ({})",
        "RangeError: bad setup",
      ],
      ["no-default", "export const main = () => ({})", "TypeError: the script has no default export function"],
      [
        "throws-later",
        "export default async () => { setTimeout(() => { throw new SyntaxError('late') }, 5); await new Promise((r) => setTimeout(r, 500)); }",
        "SyntaxError: late",
      ],
    ];
    for (const [name, code, reason] of cases) {
      const { run } = await failOne(name, script("s", code));
      expect(run.status, name).toBe("failed");
      expect(run.error.message, name).toBe(`the script exited with code 1: ${reason}`);
    }
  });

  it("gives a command's last meaningful stderr line, skipping Node's banner and stack frames", async () => {
    const { run } = await failOne("node-command", {
      id: "cmd",
      type: "command",
      command: `node -e 'null.x'`,
    });
    expect(run.status).toBe("failed");
    expect(run.error.message).toBe(
      "the command exited with code 1: TypeError: Cannot read properties of null (reading 'x')",
    );
    const { run: shell } = await failOne("shell-command", {
      id: "cmd",
      type: "command",
      command: "echo 'first complaint' >&2; echo 'cp: cannot stat in/x: No such file' >&2; echo >&2; exit 4",
    });
    expect(shell.error.message).toBe("the command exited with code 4: cp: cannot stat in/x: No such file");
  });

  it("keeps a secret out of the recorded error even when the thrown message quotes it", async () => {
    await stack.putWorkflow({
      name: "leaky-error",
      nodes: [
        { id: "otp", type: "input", fields: { code: { type: "string", secret: true } } },
        script("use", "export default async ({ secrets }) => { throw new Error('bad code ' + secrets['otp.code']); }"),
      ].map((n, i) => (i === 1 ? { ...n, needs: ["otp"] } : n)),
    });
    const runId = await stack.trigger("leaky-error");
    await stack.waitForRun(runId, ["awaiting_input"]);
    await stack.json(`/api/runs/${runId}/inputs/otp`, { method: "POST", body: { values: { code: "493817" } } });
    const run = await stack.waitForRun(runId);
    expect(run.status).toBe("failed");
    expect(run.error.message).toMatch(/^the script exited with code 1: Error: bad code \S+$/);
    expect(run.error.message).not.toContain("493817");
  });

  it("shows the thrown error in `stepwise run --wait`", async () => {
    const res = await runCli(
      { url: stack.url, apiKey: stack.apiKey, cwd: workDir },
      "run",
      "throws-type-error",
      "--wait",
    );
    expect(res.code).not.toBe(0);
    const last = res.stdout.trimEnd().split("\n").at(-1);
    expect(last).toMatch(
      /^run_\S+ failed in \S+: node 'calc': the script exited with code 1: TypeError: x is not a function$/,
    );
    expect(res.stdout + res.stderr).not.toMatch(/Node\.js v/);
  });
});
