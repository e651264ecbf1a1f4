// Drives the real `stepwise` binary against the embedded server, asserting what a user sees.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbedded } from "../../local/embedded.ts";
import { type CliResult, expectCleanError, runCli } from "../support/cli.ts";

const API_KEY = "test-platform-key-0123456789";

const WORKFLOW_YAML = `
name: cli-report
description: integration test workflow for the CLI
parameters:
  day: { type: string, required: true }
  limit: { type: number, default: 10 }
  loud: { type: boolean, default: false }
nodes:
  - id: extract
    type: script
    runtime: node
    code: |
      export default async ({ params }) => ({ rows: params.limit * 2, day: params.day })
  - id: render
    type: command
    needs: [extract]
    command: echo "rows=$ROWS day=$DAY"
    env:
      ROWS: "\${context.rows}"
      DAY: "\${context.day}"
`;

let stack: Awaited<ReturnType<typeof startEmbedded>>;
let dataDir: string;
let workDir: string;

/** Runs `node bin/stepwise.js …` with the test server's URL and `apiKey`, as a user's shell would. */
const cliWithKey = (apiKey: string, ...args: string[]): Promise<CliResult> =>
  runCli({ url: stack.url, apiKey, cwd: workDir }, ...args);
const cli = (...args: string[]): Promise<CliResult> => cliWithKey(API_KEY, ...args);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-cli-data-"));
  workDir = await mkdtemp(join(tmpdir(), "stepwise-cli-work-"));
  await writeFile(join(workDir, "report.yaml"), WORKFLOW_YAML);
  stack = await startEmbedded({ dataDir, port: 0, apiKey: API_KEY, examplesDir: null });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

describe("stepwise CLI against the embedded server", () => {
  let runId = "";

  it("applies a YAML workflow, then reports it unchanged", async () => {
    const first = await cli("workflow", "apply", "report.yaml");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^created cli-report version 1 sha256:[0-9a-f]{64}\n$/);

    const again = await cli("workflow", "apply", "report.yaml");
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^unchanged cli-report version 1 sha256:[0-9a-f]{64}\n$/);

    const got = await cli("workflow", "get", "cli-report");
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^version\s+1$/m);
    expect(got.stdout).toMatch(/^limit\s+number\s+no\s+10/m);
    expect(got.stdout).toMatch(/^└─ render\s+command$/m);
  });

  it("runs with typed parameters and waits until it succeeds (--json)", async () => {
    const res = await cli("run", "cli-report", "-p", "day=2026-11-21", "-p", "limit=7", "--wait", "--json");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const run = JSON.parse(res.stdout);
    expect(run.status).toBe("succeeded");
    expect(run.runId).toMatch(/^run_/);
    // "7" became the number 7: the server rejects a mistyped parameter, so this also proves coercion.
    expect(run.parameters).toEqual({ day: "2026-11-21", limit: 7, loud: false });
    runId = run.runId;
  });

  it("shows the run and its step tree", async () => {
    const res = await cli("runs", "get", runId);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^run\\s+${runId}$`, "m"));
    expect(res.stdout).toMatch(/^status\s+succeeded$/m);
    expect(res.stdout).toMatch(/^parameters\s+day=2026-11-21 limit=7 loud=false$/m);
    expect(res.stdout).toMatch(/^NODE\s+TYPE\s+STATUS\s+ATTEMPT\s+DURATION\s+EXIT$/m);
    expect(res.stdout).toMatch(/^extract\s+script\s+succeeded\s+1\s+\S+/m);
    expect(res.stdout).toMatch(/^└─ render\s+command\s+succeeded\s+1\s+\S+\s+0$/m);
  });

  it("prints the run's logs as text", async () => {
    const all = await cli("runs", "logs", runId);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/render.*rows=14 day=2026-11-21/);

    const one = await cli("runs", "logs", runId, "--node", "render");
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/rows=14 day=2026-11-21/);
  });

  it("lists runs as JSON, filtered by workflow", async () => {
    const res = await cli("runs", "list", "--workflow", "cli-report", "--json");
    expect(res.code).toBe(0);
    const page = JSON.parse(res.stdout);
    expect(page).toHaveProperty("nextCursor");
    expect(page.items.map((r: { runId: string }) => r.runId)).toContain(runId);
    const listed = page.items.find((r: { runId: string }) => r.runId === runId);
    expect(listed.status).toBe("succeeded");

    const human = await cli("runs", "list");
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^RUN\s+WORKFLOW\s+STATUS/);
    expect(human.stdout).toMatch(new RegExp(`^${runId}\\s+cli-report v1\\s+succeeded\\s+manual`, "m"));
  });

  it("follows a run line by line when stdout is not a terminal", async () => {
    const res = await cli("run", "cli-report", "-p", "day=2026-11-22", "--wait");
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^started run_\S+ cli-report version 1 (queued|running)$/);
    expect(res.stdout).toMatch(/^ {2}render\s+succeeded/m);
    expect(lines.at(-1)).toMatch(/^run_\S+ succeeded in \S+$/);
  });

  it("fails cleanly for an unknown workflow", async () => {
    const res = await cli("run", "no-such-workflow", "-p", "day=x");
    expectCleanError(res, /^error: .*no-such-workflow|^error: .*not found/);
  });

  it("fails cleanly when a required parameter is missing, and starts no run", async () => {
    const before = JSON.parse((await cli("runs", "list", "--workflow", "cli-report", "--json")).stdout);
    const res = await cli("run", "cli-report", "-p", "limit=3");
    expectCleanError(res, /day/);
    const after = JSON.parse((await cli("runs", "list", "--workflow", "cli-report", "--json")).stdout);
    expect(after.items.length).toBe(before.items.length);
  });

  it("rejects a mistyped parameter before calling the server", async () => {
    const res = await cli("run", "cli-report", "-p", "day=x", "-p", "limit=many");
    expectCleanError(res, /^error: parameter 'limit' must be a number, got 'many'$/);
  });

  it("reports a bad key as unauthorized", async () => {
    const res = await cliWithKey("wrong-key-0123456789", "workflow", "list");
    expectCleanError(res, /^error: /);
    expect(res.stderr).toContain("the API key was not accepted");
  });
});
