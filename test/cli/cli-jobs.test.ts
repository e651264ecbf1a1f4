// Drives the real `stepwise jobs …` and `stepwise job-runs …` commands against the embedded server, asserting
// what a user sees: the lines printed, the exit codes, and what the API then holds.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import { type CliResult, expectCleanError, type LiveCli, startCli } from "../support/cli.ts";
import { requestJson } from "../support/http.ts";
import { pollUntil } from "../support/poll.ts";

const API_KEY = "test-platform-key-cli-jobs-0123456789";

const JOB_YAML = `
name: trio
description: three steps in a row
workflowExecutionOrder: [step-a, step-b, step-c]
`;

let stack: EmbeddedStack;
let dataDir: string;
let workDir: string;

/** Starts `node bin/stepwise.js …` with the test server's URL and key, as a user's shell would (stdout a pipe). */
const start = (...args: string[]): LiveCli => startCli({ url: stack.url, apiKey: API_KEY, cwd: workDir }, ...args);

const cli = (...args: string[]): Promise<CliResult> => start(...args).done;

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await requestJson(`${stack.url}${path}`, API_KEY, method, body);
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${res.text}`);
  return res.body;
}

/**
 * A workflow whose one command waits for a gate file (when given one) and then exits with `code`: 0 succeeds,
 * 1 fails. The test opens a gate to move a job run on exactly when it has seen what it wants to see.
 */
const stepWorkflow = (name: string) => ({
  name,
  parameters: { gate: { type: "string", default: "" }, code: { type: "number", default: 0 } },
  nodes: [
    {
      id: "work",
      type: "command",
      command: 'if [ -n "$GATE" ]; then while [ ! -f "$GATE" ]; do sleep 0.05; done; fi; echo "step"; exit $CODE',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the engine's own ${params.x} references
      env: { GATE: "${params.gate}", CODE: "${params.code}" },
    },
  ],
});
const gate = (name: string) => join(workDir, `${name}.gate`);
const open = (name: string) => writeFile(gate(name), "open");

/** The lines a command printed, without the trailing empty one. */
const lines = (text: string) => text.split("\n").filter((l) => l !== "");
const startedId = (stdout: string) => /^started (jr_[0-9A-Z]{26}) trio pending$/m.exec(stdout)?.[1] ?? "";

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-cli-jobs-data-"));
  workDir = await mkdtemp(join(tmpdir(), "stepwise-cli-jobs-work-"));
  await writeFile(join(workDir, "trio.yaml"), JOB_YAML);
  stack = await startEmbedded({ dataDir, port: 0, apiKey: API_KEY, examplesDir: null });
  for (const wf of ["step-a", "step-b", "step-c"]) await api("PUT", `/api/workflows/${wf}`, stepWorkflow(wf));
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

describe("stepwise jobs", () => {
  it("applies a YAML job (created, then updated) and lists it", async () => {
    const first = await cli("jobs", "apply", "trio.yaml");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("created job trio: step-a → step-b → step-c\n");

    await writeFile(join(workDir, "trio.yaml"), JOB_YAML.replace("step-b, ", ""));
    const edited = await cli("jobs", "apply", "trio.yaml");
    expect(edited.code).toBe(0);
    expect(edited.stdout).toBe("updated job trio: step-a → step-c\n");
    expect((await api("GET", "/api/jobs/trio")).workflowExecutionOrder).toEqual(["step-a", "step-c"]);

    await writeFile(join(workDir, "trio.yaml"), JOB_YAML);
    const back = await cli("jobs", "apply", "trio.yaml", "--json");
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({
      name: "trio",
      description: "three steps in a row",
      workflowExecutionOrder: ["step-a", "step-b", "step-c"],
    });

    const list = await cli("jobs", "list");
    expect(list.stderr).toBe("");
    expect(list.code).toBe(0);
    expect(lines(list.stdout)[0]).toMatch(/^NAME\s+WORKFLOWS\s+DESCRIPTION$/);
    expect(list.stdout).toMatch(/^trio\s+step-a → step-b → step-c\s+three steps in a row$/m);
  });

  it("refuses a job naming an unknown workflow, and running an unknown job, with clean errors", async () => {
    await writeFile(join(workDir, "ghost.json"), JSON.stringify({ name: "ghost", workflowExecutionOrder: ["nope"] }));
    expectCleanError(await cli("jobs", "apply", "ghost.json"), /^error: unknown workflow 'nope'$/);
    expectCleanError(await cli("jobs", "run", "no-such-job"), /^error: job 'no-such-job' not found$/);
  });
});

describe("stepwise jobs run --wait and job-runs", () => {
  let failedId = "";
  let completedId = "";

  it("prints progress per workflow while it waits, and exits 0 when the job run completes", async () => {
    const run = start("jobs", "run", "trio", "--wait", "-p", `step-a.gate=${gate("wait-a")}`);
    // The first workflow holds at its gate until the CLI has shown it running.
    await pollUntil("the CLI to show step-a running", async () => /^ {2}step-a\s+running\s+run_/m.test(run.out()));
    await open("wait-a");
    const res = await run.done;
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const out = lines(res.stdout);
    completedId = startedId(res.stdout);
    expect(out[0]).toBe(`started ${completedId} trio pending`);
    expect(out).toContain(`${completedId} in_progress`);
    // "pending" was said by the started line and is not repeated.
    expect(out.filter((l) => l === `${completedId} pending`)).toEqual([]);
    // One line per workflow as it changes: step-a running, then each succeeded in the job's order.
    const at = (re: RegExp) => out.findIndex((l) => re.test(l));
    const running = at(/^ {2}step-a\s+running\s+run_\w+$/);
    const doneA = at(/^ {2}step-a\s+succeeded\s+\S+\s+run_\w+$/);
    const doneB = at(/^ {2}step-b\s+succeeded\s+\S+\s+run_\w+$/);
    const doneC = at(/^ {2}step-c\s+succeeded\s+\S+\s+run_\w+$/);
    expect(running).toBeGreaterThan(0);
    expect([running < doneA, doneA < doneB, doneB < doneC]).toEqual([true, true, true]);
    expect(out.at(-1)).toMatch(new RegExp(`^${completedId} completed in \\S+$`));

    const jr = await api("GET", `/api/job-runs/${completedId}`);
    expect(jr.status).toBe("completed");
    // The run ids printed are the job run's workflow runs.
    for (const w of jr.workflowRuns) expect(res.stdout).toContain(`${w.workflow}  succeeded`);
    for (const w of jr.workflowRuns) expect(res.stdout).toContain(w.runId);
  });

  it("exits non-zero when the job run halts on a failing workflow; the rest never start", async () => {
    const res = await cli("jobs", "run", "trio", "--wait", "-p", "step-b.code=1");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(1);
    failedId = startedId(res.stdout);
    expect(failedId).toMatch(/^jr_/);
    expect(res.stdout).toMatch(/^ {2}step-a\s+succeeded\s+\S+\s+run_\w+$/m);
    expect(res.stdout).toMatch(/^ {2}step-b\s+failed\s+\S+\s+run_\w+$/m);
    expect(res.stdout).toMatch(/^ {2}step-c\s+not_started\b/m);
    expect(res.stdout).not.toMatch(/step-c\s+(running|succeeded)/);
    // The last line says why: the workflow run that failed.
    expect(lines(res.stdout).at(-1)).toMatch(
      new RegExp(`^${failedId} failed in \\S+: workflow 'step-b' \\(run run_\\w+\\) ended failed$`),
    );
    // "1" reached the server as the number the workflow declares (a string would have been refused with 400).
    expect((await api("GET", `/api/job-runs/${failedId}`)).jobConfigJsonSnapshot.parameters).toEqual({
      "step-b": { code: 1 },
    });
  });

  it("job-runs get shows the job run with each workflow run and its steps", async () => {
    const res = await cli("job-runs", "get", failedId);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^job run\\s+${failedId}$`, "m"));
    expect(res.stdout).toMatch(/^job\s+trio$/m);
    expect(res.stdout).toMatch(/^status\s+failed$/m);
    expect(res.stdout).toMatch(/^created by\s+platform$/m);
    const jr = await api("GET", `/api/job-runs/${failedId}`);
    const [a, b] = jr.workflowRuns as Array<{ runId: string }>;
    // Each workflow run: a heading, then its step table indented under it.
    const blocks = res.stdout.split("\n\n").slice(1);
    expect(blocks).toHaveLength(3);
    expect(lines(blocks[0] ?? "")).toEqual([
      `step-a  succeeded  ${a?.runId}`,
      expect.stringMatching(/^ {2}NODE\s+TYPE\s+STATUS\s+ATTEMPT\s+DURATION\s+EXIT$/),
      expect.stringMatching(/^ {2}work\s+command\s+succeeded\s+1\s+\S+\s+0$/),
    ]);
    expect(lines(blocks[1] ?? "")).toEqual([
      `step-b  failed  ${b?.runId}`,
      expect.stringMatching(/^ {2}NODE\s+TYPE/),
      expect.stringMatching(/^ {2}work\s+command\s+failed\s+1\s+\S+\s+1$/),
    ]);
    expect(lines(blocks[2] ?? "")).toEqual(["step-c  not_started"]);

    const json = JSON.parse((await cli("job-runs", "get", failedId, "--json")).stdout);
    expect(json.workflowRuns.map((w: { run: { status: string } | null }) => w.run?.status ?? null)).toEqual([
      "succeeded",
      "failed",
      null,
    ]);
    expect(json.workflowRuns[1].tasks.map((t: { nodeId: string; exitCode: number }) => [t.nodeId, t.exitCode])).toEqual(
      [["work", 1]],
    );
  });

  it("job-runs list shows job runs newest first, filtered by job and status", async () => {
    const res = await cli("job-runs", "list");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const out = lines(res.stdout);
    expect(out[0]).toMatch(/^JOB RUN\s+JOB\s+STATUS\s+WORKFLOWS\s+CREATED\s+DURATION$/);
    expect(res.stdout).toMatch(new RegExp(`^${failedId}\\s+trio\\s+failed\\s+1/3\\s`, "m"));
    expect(res.stdout).toMatch(new RegExp(`^${completedId}\\s+trio\\s+completed\\s+3/3\\s`, "m"));
    expect(res.stdout.indexOf(failedId)).toBeLessThan(res.stdout.indexOf(completedId));

    const failed = JSON.parse((await cli("job-runs", "list", "--job", "trio", "--status", "failed", "--json")).stdout);
    expect(failed.items.map((j: { jobRunId: string }) => j.jobRunId)).toEqual([failedId]);
  });

  it("cancels a running job run (a waiting CLI exits non-zero); a second cancel fails clearly", async () => {
    const waiting = start("jobs", "run", "trio", "--wait", "-p", `step-a.gate=${gate("cancel-a")}`);
    await pollUntil("the CLI to show step-a running", async () => /^ {2}step-a\s+running\s+run_/m.test(waiting.out()));
    const id = startedId(waiting.out());

    const cancel = await cli("job-runs", "cancel", id);
    expect(cancel.stderr).toBe("");
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toBe(`${id} cancelled\n`);

    const res = await waiting.done;
    expect(res.code).toBe(1);
    expect(lines(res.stdout).at(-1)).toMatch(new RegExp(`^${id} cancelled in \\S+$`));
    const jr = await pollUntil("the workflow run to be cancelled", async () => {
      const j = await api("GET", `/api/job-runs/${id}`);
      return j.workflowRuns[0].status === "cancelled" ? j : null;
    });
    expect(jr.status).toBe("cancelled");
    expect(jr.workflowRuns.map((w: { workflow: string; status: string }) => `${w.workflow}:${w.status}`)).toEqual([
      "step-a:cancelled",
      "step-b:not_started",
      "step-c:not_started",
    ]);

    expectCleanError(await cli("job-runs", "cancel", id), /^error: job run is already cancelled$/);
    expectCleanError(
      await cli("job-runs", "cancel", "jr_01ARZ3NDEKTSV4RRFFQ69G5FAV"),
      /^error: job run 'jr_01ARZ3NDEKTSV4RRFFQ69G5FAV' not found$/,
    );
    await open("cancel-a");
  });
});
