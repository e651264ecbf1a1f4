import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveServer } from "../../cli/config.ts";
import type { CliIo } from "../../cli/context.ts";
import { CliError } from "../../cli/errors.ts";
import { parseDocument } from "../../cli/files.ts";
import {
  fitWidth,
  formatDuration,
  formatTime,
  layoutStepTree,
  paint,
  renderStepTable,
  renderTable,
  stripAnsi,
  treeLabel,
} from "../../cli/format.ts";
import { main } from "../../cli/main.ts";
import {
  coerceFields,
  coerceParameter,
  coerceParameters,
  groupJobParameters,
  parseAssignment,
  parseAssignments,
} from "../../cli/params.ts";
import { stepRows } from "../../cli/steps.ts";
import { changeLines, jobSteps } from "../../cli/watch.ts";

describe("key=value parsing", () => {
  it("splits at the first '=' so values may contain '='", () => {
    expect(parseAssignment("query=a=b&c=d")).toEqual(["query", "a=b&c=d"]);
    expect(parseAssignment("empty=")).toEqual(["empty", ""]);
  });

  it("rejects items without a key or without '='", () => {
    expect(() => parseAssignment("novalue")).toThrow("expected key=value, got 'novalue'");
    expect(() => parseAssignment("=x")).toThrow(CliError);
  });

  it("rejects a key given twice instead of silently keeping one", () => {
    expect(parseAssignments(["a=1", "b=x=y"])).toEqual({ a: "1", b: "x=y" });
    expect(() => parseAssignments(["a=1", "a=2"])).toThrow("'a' is given more than once");
  });
});

describe("job parameters", () => {
  it("groups workflow.key names by workflow", () => {
    expect(groupJobParameters({ "wf-a.day": "x", "wf-a.n": "1", "wf-b.q": "a.b=c" })).toEqual({
      "wf-a": { day: "x", n: "1" },
      "wf-b": { q: "a.b=c" },
    });
    expect(() => groupJobParameters({ day: "x" })).toThrow("job parameters are given as workflow.key=value");
  });
});

describe("parameter coercion", () => {
  const spec = {
    day: { type: "string" as const, required: true },
    limit: { type: "number" as const },
    dry: { type: "boolean" as const },
    filter: { type: "json" as const },
  };

  it("coerces by the declared type", () => {
    expect(
      coerceParameters({ day: "2026-11-21", limit: "10", dry: "true", filter: '{"a":[1,2]}', extra: "7" }, spec),
    ).toEqual({ day: "2026-11-21", limit: 10, dry: true, filter: { a: [1, 2] }, extra: "7" });
  });

  it("keeps strings that look like numbers as strings when the type is string", () => {
    expect(coerceParameters({ day: "007" }, spec)).toEqual({ day: "007" });
  });

  it("accepts the usual boolean spellings and numbers in any JS notation", () => {
    expect(coerceParameter("no", "boolean", "p")).toBe(false);
    expect(coerceParameter("YES", "boolean", "p")).toBe(true);
    expect(coerceParameter("1e3", "number", "p")).toBe(1000);
    expect(coerceParameter("-2.5", "number", "p")).toBe(-2.5);
    expect(coerceParameter('"quoted"', "json", "p")).toBe("quoted");
  });

  it("names each bad value", () => {
    expect(() => coerceParameters({ limit: "ten" }, spec)).toThrow("parameter 'limit' must be a number, got 'ten'");
    expect(() => coerceParameters({ limit: "" }, spec)).toThrow("must be a number");
    expect(() => coerceParameters({ filter: "{oops" }, spec)).toThrow("parameter 'filter' must be JSON");
    try {
      coerceParameters({ limit: "x", dry: "maybe" }, spec);
      expect.unreachable();
    } catch (err) {
      expect((err as CliError).message).toBe("2 invalid values");
      expect((err as CliError).details).toEqual([
        "parameter 'limit' must be a number, got 'x'",
        "parameter 'dry' must be a boolean (true or false), got 'maybe'",
      ]);
    }
  });

  it("coerces input fields, checking enum values", () => {
    const fields = {
      count: { type: "number" as const },
      ok: { type: "boolean" as const },
      env: { type: "enum" as const, values: ["dev", "prod"] },
      note: { type: "string" as const },
    };
    expect(coerceFields({ count: "3", ok: "false", env: "prod", note: "a=b" }, fields)).toEqual({
      count: 3,
      ok: false,
      env: "prod",
      note: "a=b",
    });
    expect(() => coerceFields({ env: "staging" }, fields)).toThrow(
      "field 'env' must be one of dev, prod, got 'staging'",
    );
  });
});

describe("durations", () => {
  it.each([
    [0, "0ms"],
    [850, "850ms"],
    [1000, "1.0s"],
    [1250, "1.2s"],
    [59_960, "59.9s"],
    [60_000, "1m00s"],
    [184_000, "3m04s"],
    [3_599_999, "59m59s"],
    [3_600_000, "1h00m"],
    [7_500_000, "2h05m"],
    [273_600_000, "3d04h"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("shows unknown durations as '-'", () => {
    expect(formatDuration(null)).toBe("-");
    expect(formatDuration(undefined)).toBe("-");
    expect(formatDuration(-5)).toBe("-");
  });

  it("trims microsecond timestamps for tables", () => {
    expect(formatTime("2026-11-21T10:00:00.123456Z")).toBe("2026-11-21 10:00:00Z");
    expect(formatTime(null)).toBe("-");
  });
});

describe("tables and colour", () => {
  it("aligns columns, ignoring colour codes, without trailing spaces", () => {
    const rows = [
      { a: "x", b: paint("succeeded", "green", true), n: "1" },
      { a: "longer", b: "failed", n: "100" },
    ];
    const lines = renderTable(rows, [
      { header: "name", value: (r) => r.a },
      { header: "status", value: (r) => r.b },
      { header: "n", value: (r) => r.n, align: "right" },
    ]);
    expect(lines.map(stripAnsi)).toEqual([
      "NAME    STATUS       N",
      "x       succeeded    1",
      "longer  failed     100",
    ]);
    expect(lines[1]).toContain("\u001b[32msucceeded\u001b[39m");
  });

  it("cuts coloured lines to a terminal width without breaking the colour codes", () => {
    const line = `ab ${paint("running", "cyan", true)} tail`;
    expect(fitWidth(line, 100)).toBe(line);
    const cut = fitWidth(line, 7);
    expect(stripAnsi(cut)).toBe("ab run…");
    expect(cut.endsWith("\u001b[0m")).toBe(true);
  });

  it("leaves text alone when colour is off", () => {
    expect(paint("failed", "red", false)).toBe("failed");
  });
});

describe("step tree", () => {
  const contractExample = [
    { id: "extract" },
    { id: "render", needs: ["extract"] },
    { id: "sign-off", needs: ["render"] },
    { id: "otp", needs: ["sign-off"] },
    { id: "cool-down", needs: ["otp"] },
    { id: "publish", needs: ["cool-down"] },
  ];

  it("indents a chain under its needs", () => {
    expect(layoutStepTree(contractExample).map(treeLabel)).toEqual([
      "extract",
      "└─ render",
      "   └─ sign-off",
      "      └─ otp",
      "         └─ cool-down",
      "            └─ publish",
    ]);
  });

  it("draws a diamond once, under its deepest need, naming the others", () => {
    const nodes = [
      { id: "a" },
      { id: "b", needs: ["a"] },
      { id: "c", needs: ["a"] },
      { id: "slow", needs: ["c"] },
      { id: "join", needs: ["b", "slow"] },
      { id: "solo" },
    ];
    expect(layoutStepTree(nodes).map(treeLabel)).toEqual([
      "a",
      "├─ b",
      "└─ c",
      "   └─ slow",
      "      └─ join (also needs b)",
      "solo",
    ]);
  });

  it("keeps every node even with unknown needs or a cycle", () => {
    const lines = layoutStepTree([
      { id: "x", needs: ["y"] },
      { id: "y", needs: ["x"] },
      { id: "z", needs: ["ghost"] },
    ]);
    expect(lines.map((l) => l.id).sort()).toEqual(["x", "y", "z"]);
  });

  it("renders the step table of a run from definition and tasks, pending where no task exists", () => {
    const definition = {
      name: "wf",
      nodes: [
        { id: "build", type: "command" },
        { id: "ship", type: "script", needs: ["build"] },
      ],
    };
    const tasks = [
      { nodeId: "build", type: "command", status: "succeeded", attempt: 2, durationMs: 1250, exitCode: 0 },
    ];
    const rows = stepRows(definition, tasks, 0);
    expect(renderStepTable(rows, false)).toEqual([
      "NODE     TYPE     STATUS     ATTEMPT  DURATION  EXIT",
      "build    command  succeeded        2      1.2s     0",
      "└─ ship  script   pending          -         -     -",
    ]);
  });

  it("measures a running task up to now", () => {
    const tasks = [{ nodeId: "a", type: "script", status: "running", startedAt: "2026-11-21T10:00:00.000000Z" }];
    const [row] = stepRows(null, tasks, Date.parse("2026-11-21T10:03:04Z"));
    expect(formatDuration(row?.durationMs)).toBe("3m04s");
  });
});

describe("progress lines", () => {
  it("prints one line per change and points at the command for human steps", () => {
    const first = changeLines(
      new Map(),
      "run_1",
      "running",
      [{ id: "a", type: "script", status: "running", attempt: 1, durationMs: 5, exitCode: null }],
      false,
    );
    expect(first.lines).toEqual(["run_1 running", "  a  running"]);
    const second = changeLines(
      first.next,
      "run_1",
      "awaiting_approval",
      [
        { id: "a", type: "script", status: "succeeded", attempt: 1, durationMs: 1200, exitCode: null },
        { id: "ok", type: "approval", status: "awaiting_approval", attempt: 1, durationMs: null, exitCode: null },
      ],
      false,
    );
    expect(second.lines).toEqual([
      "run_1 awaiting_approval",
      "  a   succeeded  1.2s",
      "  ok  awaiting_approval",
      "      → stepwise runs approve run_1 ok",
    ]);
    expect(changeLines(second.next, "run_1", "awaiting_approval", [], false).lines).toEqual([]);
  });

  it("lists a job's workflows in execution order, pending until started", () => {
    const steps = jobSteps(
      {
        jobRunId: "jr_1",
        job: "j",
        status: "in_progress",
        jobConfigJsonSnapshot: { workflowExecutionOrder: ["a", "b", "a"] },
        workflowRuns: [
          { workflow: "a", runId: "run_1", status: "succeeded" },
          { workflow: "b", runId: "run_2", status: "running" },
        ],
      },
      new Map(),
      0,
    );
    expect(steps.map((s) => [s.workflow, s.status, s.runId])).toEqual([
      ["a", "succeeded", "run_1"],
      ["b", "running", "run_2"],
      ["a", "pending", null],
    ]);
  });
});

describe("files", () => {
  it("reads YAML and JSON", async () => {
    expect(await parseDocument("name: x\nnodes:\n  - id: a\n", "wf.yaml")).toEqual({ name: "x", nodes: [{ id: "a" }] });
    expect(await parseDocument('{"name":"x"}', "wf.json")).toEqual({ name: "x" });
    await expect(parseDocument("{", "wf.json")).rejects.toThrow("wf.json: invalid JSON");
    await expect(parseDocument("a: [", "wf.yml")).rejects.toThrow("wf.yml: invalid YAML");
  });
});

describe("server lookup", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("prefers the environment, then the local server's file", async () => {
    dir = await mkdtemp(join(tmpdir(), "stepwise-cli-"));
    await writeFile(join(dir, "local.json"), JSON.stringify({ url: "http://127.0.0.1:8787/", apiKey: "file-key" }));
    expect(await resolveServer({ dataDir: dir, noColor: false }, "/")).toEqual({
      url: "http://127.0.0.1:8787",
      apiKey: "file-key",
    });
    expect(await resolveServer({ dataDir: dir, apiKey: "env-key", noColor: false }, "/")).toEqual({
      url: "http://127.0.0.1:8787",
      apiKey: "env-key",
    });
    expect(
      await resolveServer({ url: "http://h:1", apiKey: "k", dataDir: "/nonexistent", noColor: false }, "/"),
    ).toEqual({
      url: "http://h:1",
      apiKey: "k",
    });
  });

  it("says how to fix a missing server", async () => {
    dir = await mkdtemp(join(tmpdir(), "stepwise-cli-"));
    await expect(resolveServer({ noColor: false }, dir)).rejects.toThrow(
      "start the server with npm start, or set STEPWISE_URL and STEPWISE_API_KEY",
    );
  });
});

/** Runs the CLI in process against a fake fetch that answers from a route table. */
async function runFake(
  argv: string[],
  routes: Record<string, (body: unknown, url: URL) => { status: number; body: unknown }>,
  stdinTTY = false,
) {
  let stdout = "";
  let stderr = "";
  const calls: Array<{ key: string; body: unknown; headers: Headers }> = [];
  const fakeFetch = (async (input: URL | string, init?: RequestInit) => {
    const url = new URL(String(input));
    const key = `${init?.method ?? "GET"} ${url.pathname}`;
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ key, body, headers: new Headers(init?.headers) });
    const route = routes[key];
    const res = route
      ? route(body, url)
      : { status: 404, body: { error: { code: "not_found", message: `no ${key}` } } };
    return new Response(JSON.stringify(res.body), {
      status: res.status,
      headers: { "content-type": "application/json" },
    });
  }) as typeof fetch;
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: {
      isTTY: stdinTTY,
      on: () => undefined,
      off: () => undefined,
      resume: () => undefined,
      pause: () => undefined,
    },
    env: { url: "http://fake", apiKey: "k", noColor: true },
    cwd: "/",
    fetch: fakeFetch,
    sleep: async () => undefined,
    now: () => 0,
    pollMs: 1,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr, calls };
}

describe("commands against a fake server", () => {
  const workflow = {
    name: "wf",
    version: 2,
    definitionHash: "sha256:aa",
    createdAt: "2026-11-21T10:00:00.000000Z",
    definition: {
      name: "wf",
      parameters: { day: { type: "string", required: true }, limit: { type: "number" } },
      nodes: [{ id: "ask", type: "input", fields: { code: { type: "string", secret: true }, n: { type: "number" } } }],
    },
  };

  it("sends parameters coerced by type with the idempotency key", async () => {
    const res = await runFake(["run", "wf", "-p", "day=2026-11-21", "-p", "limit=5", "--idempotency-key", "k1"], {
      "GET /api/workflows/wf": () => ({ status: 200, body: workflow }),
      "POST /api/workflows/wf/trigger": () => ({
        status: 202,
        body: { runId: "run_1", status: "queued", workflow: { name: "wf", version: 2, definitionHash: "sha256:aa" } },
      }),
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("started run_1 wf version 2 queued\n");
    const trigger = res.calls.find((c) => c.key === "POST /api/workflows/wf/trigger");
    expect(trigger?.body).toEqual({ parameters: { day: "2026-11-21", limit: 5 } });
    expect(trigger?.headers.get("idempotency-key")).toBe("k1");
    expect(trigger?.headers.get("authorization")).toBe("Bearer k");
  });

  it("prints the contract error as one line plus details, exit 1", async () => {
    const res = await runFake(["run", "wf"], {
      "GET /api/workflows/wf": () => ({ status: 200, body: workflow }),
      "POST /api/workflows/wf/trigger": () => ({
        status: 400,
        body: {
          error: {
            code: "validation_failed",
            message: "missing required parameter 'day'",
            details: [{ path: "parameters.day", message: "missing required parameter 'day'" }],
          },
        },
      }),
    });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe("error: missing required parameter 'day'\n");
  });

  it("refuses to take a secret field from a non-terminal stdin", async () => {
    const res = await runFake(["runs", "input", "run_1", "ask", "n=3"], {
      "GET /api/runs/run_1": () => ({
        status: 200,
        body: {
          runId: "run_1",
          status: "awaiting_input",
          workflow: { name: "wf", version: 2, definitionHash: "sha256:aa" },
        },
      }),
      "GET /api/workflows/wf": () => ({ status: 200, body: workflow }),
    });
    expect(res.code).toBe(1);
    expect(res.stderr.split("\n")[0]).toBe("error: field 'code' is secret and was not given");
    expect(res.calls.some((c) => c.key.startsWith("POST"))).toBe(false);
  });

  it("submits input values coerced by field type", async () => {
    const res = await runFake(["runs", "input", "run_1", "ask", "n=3", "code=a=b"], {
      "GET /api/runs/run_1": () => ({
        status: 200,
        body: {
          runId: "run_1",
          status: "awaiting_input",
          workflow: { name: "wf", version: 2, definitionHash: "sha256:aa" },
        },
      }),
      "GET /api/workflows/wf": () => ({ status: 200, body: workflow }),
      "POST /api/runs/run_1/inputs/ask": () => ({ status: 200, body: { ok: true } }),
    });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.calls.at(-1)?.body).toEqual({ values: { n: 3, code: "a=b" } });
  });

  it("prints raw JSON with --json", async () => {
    const page = { items: [{ name: "wf", version: 2, definitionHash: "sha256:aa" }], nextCursor: null };
    const res = await runFake(["workflow", "list", "--json"], {
      "GET /api/workflows": () => ({ status: 200, body: page }),
    });
    expect(JSON.parse(res.stdout)).toEqual(page);
  });

  it("waits for a run and exits 1 when it fails", async () => {
    let polls = 0;
    const run = (status: string) => ({
      runId: "run_1",
      status,
      workflow: { name: "wf", version: 2, definitionHash: "sha256:aa" },
      createdAt: "2026-11-21T10:00:00.000000Z",
      startedAt: "2026-11-21T10:00:00.000000Z",
      completedAt: status === "failed" ? "2026-11-21T10:00:01.500000Z" : null,
      error: status === "failed" ? { code: "task_failed", message: "exit code 2", nodeId: "ask" } : null,
    });
    const res = await runFake(["run", "wf", "-p", "day=x", "--wait"], {
      "GET /api/workflows/wf": () => ({ status: 200, body: workflow }),
      "POST /api/workflows/wf/trigger": () => ({
        status: 202,
        body: { runId: "run_1", status: "queued", workflow: { name: "wf", version: 2, definitionHash: "sha256:aa" } },
      }),
      "GET /api/runs/run_1": () => ({ status: 200, body: run(++polls < 3 ? "running" : "failed") }),
      "GET /api/runs/run_1/tasks": () => ({ status: 200, body: { items: [] } }),
    });
    expect(res.code).toBe(1);
    expect(res.stdout.split("\n")).toEqual([
      "started run_1 wf version 2 queued",
      "run_1 running",
      "run_1 failed in 1.5s: node 'ask': exit code 2",
      "",
    ]);
  });
});
