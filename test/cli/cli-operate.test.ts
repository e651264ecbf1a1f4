// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${params.x} and ${context.x} are Stepwise references.
// Operating runs from the CLI, as a user's shell would: restart (default, --from, --latest), watch, logs --follow,
// validate, archive, the cancel reason in `runs get`, the description in `workflow list`, and the local key found
// from a sub-folder of the checkout.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliTarget, expectOk, runCli } from "../support/cli.ts";
import { type Json, startStack, type TestStack } from "../support/stack.ts";

let stack: TestStack;
let target: CliTarget;
let flag: string;

const flow = (extra = "") => ({
  name: "cli-restart",
  description: "restart me",
  parameters: { flag: { type: "string", required: true } },
  nodes: [
    { id: "prep", type: "command", command: `echo prepared${extra}` },
    { id: "flaky", type: "command", needs: ["prep"], env: { F: "${params.flag}" }, command: 'test -f "$F" && echo ok' },
  ],
});

beforeAll(async () => {
  stack = await startStack();
  target = { url: stack.url, apiKey: stack.apiKey, cwd: stack.dataDir };
  flag = join(stack.dataDir, "cli-flag");
});

afterAll(async () => {
  await stack?.stop();
});

describe("cli: operating runs", () => {
  it("restarts a failed run (--wait, --from, --latest) and re-attaches with runs watch", async () => {
    // flaky fails while the flag file is missing.
    await stack.putWorkflow(flow());
    const failed = await stack.trigger("cli-restart", { flag });
    expect((await stack.waitForSealed(failed)).status).toBe("failed");
    await writeFile(flag, "x");

    const out = expectOk(await runCli(target, "runs", "restart", failed, "--wait"));
    expect(out).toContain(`restarted ${failed} as run_`);
    expect(out).toMatch(/runs again: {2}flaky/);
    expect(out).toMatch(/carried over: prep/);
    expect(out).toContain("succeeded");

    const from = JSON.parse(expectOk(await runCli(target, "runs", "restart", failed, "--from", "prep", "--json")));
    expect(from).toMatchObject({ restartOf: failed, rerun: ["prep", "flaky"], reused: [] });
    const watched = expectOk(await runCli(target, "runs", "watch", from.runId));
    expect(watched).toContain("succeeded");

    await stack.putWorkflow(flow(" v2")); // prep changed: with --latest it runs again
    const latest = JSON.parse(expectOk(await runCli(target, "runs", "restart", failed, "--latest", "--json")));
    expect(latest).toMatchObject({ rerun: ["prep", "flaky"], reused: [] });
    const unchanged = JSON.parse(expectOk(await runCli(target, "runs", "restart", failed, "--json")));
    expect(unchanged).toMatchObject({ rerun: ["flaky"], reused: ["prep"] });

    const refused = await runCli(target, "runs", "restart", unchanged.runId);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^error: /);
  });

  it("follows logs to the end of the run, and shows a cancel's reason in runs get", async () => {
    await stack.putWorkflow({
      name: "cli-logs",
      nodes: [{ id: "talk", type: "command", command: "echo one; sleep 1; echo two; sleep 1; echo three" }],
    });
    const runId = await stack.trigger("cli-logs");
    const out = expectOk(await runCli(target, "runs", "logs", runId, "--follow"));
    expect(out).toBe("talk | one\ntalk | two\ntalk | three\n");

    await stack.putWorkflow({ name: "cli-cancel", nodes: [{ id: "ok", type: "approval" }] });
    const waiting = await stack.trigger("cli-cancel");
    await stack.waitForRun(waiting, ["awaiting_approval"]);
    expectOk(await runCli(target, "runs", "cancel", waiting, "-m", "wrong day"));
    await stack.waitForRun(waiting);
    const shown = expectOk(await runCli(target, "runs", "get", waiting));
    expect(shown).toMatch(/cancelled\s+by platform: wrong day/);
  });

  it("validates a definition with every problem at once", async () => {
    const file = join(stack.dataDir, "broken.json");
    await writeFile(
      file,
      JSON.stringify({
        name: "broken",
        parameters: { day: { type: "string" } },
        nodes: [
          { id: "ask", type: "input", fields: { colour: { type: "string" } } },
          {
            id: "use",
            type: "command",
            needs: ["ask"],
            command: "echo",
            env: { A: "${params.month}", B: "${context.size}", C: "${context.colour}", D: "${params.day}" },
          },
        ],
      }),
    );
    const res = await runCli(target, "workflow", "validate", file);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("2 problems");
    expect(res.stderr).toContain("${params.month} names no declared parameter");
    expect(res.stderr).toContain("${context.size} is written by no node upstream");
    expect(res.stderr).not.toContain("colour");

    const cyclic = join(stack.dataDir, "cyclic.json");
    await writeFile(
      cyclic,
      JSON.stringify({
        name: "cyclic",
        nodes: [
          { id: "a", type: "wait", seconds: 1, needs: ["b"] },
          { id: "b", type: "wait", seconds: 1, needs: ["a"] },
        ],
      }),
    );
    const both = await runCli(target, "workflow", "validate", cyclic);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("cycle");

    const good = join(stack.dataDir, "good.json");
    await writeFile(good, JSON.stringify(flow()));
    expect(expectOk(await runCli(target, "workflow", "validate", good))).toContain("valid cli-restart");
  });

  it("archives workflows and jobs; workflow list shows descriptions", async () => {
    await stack.putWorkflow({
      name: "cli-archive-me",
      description: "soon gone",
      nodes: [{ id: "a", type: "wait", seconds: 0 }],
    });
    const listed = expectOk(await runCli(target, "workflow", "list", "--limit", "100"));
    expect(listed).toMatch(/cli-archive-me.*soon gone/);
    expect(listed).toMatch(/cli-restart.*restart me/);
    expect(expectOk(await runCli(target, "workflow", "archive", "cli-archive-me"))).toContain(
      "archived workflow cli-archive-me",
    );
    expect(expectOk(await runCli(target, "workflow", "list", "--limit", "100"))).not.toContain("cli-archive-me");

    await stack.json("/api/jobs/cli-job", { method: "PUT", body: { workflowExecutionOrder: ["cli-logs"] } });
    expect(expectOk(await runCli(target, "jobs", "archive", "cli-job"))).toContain("archived job cli-job");
    const job: Json = await stack.json("/api/jobs/cli-job");
    expect(job.archived).toBe(true);
  });

  it("finds the local key from any folder inside the checkout", async () => {
    const root = join(stack.dataDir, "checkout");
    const deep = join(root, "src", "deep");
    await mkdir(join(root, ".stepwise"), { recursive: true });
    await mkdir(deep, { recursive: true });
    await writeFile(join(root, ".stepwise", "local.json"), JSON.stringify({ url: stack.url, apiKey: stack.apiKey }));
    // No URL or key in the environment: only the file up the tree says where the server is.
    const res = await runCli({ url: "", apiKey: "", cwd: deep }, "workflow", "list", "--json");
    expect(JSON.parse(expectOk(res)).items.length).toBeGreaterThan(0);
    await rm(root, { recursive: true, force: true });
  });
});
