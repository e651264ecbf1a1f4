import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import { LocalStateMachine } from "../../shared/adapters/embedded/local-step-functions.ts";
import { CostMeter } from "../../shared/ports/metrics.ts";
import { buildRunStateMachine, HUMAN_REJECTED, STATE } from "../../shared/state-machine/run-state-machine.ts";

const KEY = "test-platform-key-0123456789";
let stack: EmbeddedStack;

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function waitFor(runId: string, statuses: string[]) {
  for (let i = 0; i < 300; i++) {
    const r = await call("GET", `/api/runs/${runId}`);
    if (statuses.includes(r.body.status)) return r.body;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`run ${runId} never reached ${statuses.join("|")}`);
}

beforeAll(async () => {
  stack = await startEmbedded({
    dataDir: await mkdtemp(join(tmpdir(), "stepwise-sm-")),
    port: 0,
    apiKey: KEY,
    examplesDir: null,
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe("run state machine", () => {
  it("runs a 10-node diamond in 3 state transitions and one Advance call", async () => {
    const middle = Array.from({ length: 8 }, (_, i) => ({
      id: `m${i}`,
      type: "command",
      needs: ["start"],
      command: `echo ${i}`,
    }));
    const def = {
      name: "diamond",
      nodes: [
        { id: "start", type: "command", command: "echo start" },
        ...middle,
        { id: "end", type: "command", needs: middle.map((m) => m.id), command: "echo end" },
      ],
    };
    expect((await call("PUT", "/api/workflows/diamond", def)).status).toBe(201);
    const before = stack.deps.meter.snapshot();
    const { body } = await call("POST", "/api/workflows/diamond/trigger", {});
    expect((await waitFor(body.runId, ["succeeded", "failed"])).status).toBe("succeeded");
    // The record is terminal before Advance returns; the execution then passes Route and Done.
    for (let i = 0; i < 100 && stack.orchestrator.runs.isRunning(body.runId); i++)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((res) => setTimeout(res, 20));
    const after = stack.deps.meter.snapshot();
    expect(after.transitions - before.transitions).toBe(3);
    expect(after.handlerCalls - before.handlerCalls).toBe(1);
    const tasks = (await call("GET", `/api/runs/${body.runId}/tasks`)).body.items as Array<{ status: string }>;
    expect(tasks).toHaveLength(10);
    expect(tasks.every((t) => t.status === "succeeded")).toBe(true);
  });

  it("publishes a long task's log while it runs, so it can be followed live", async () => {
    const gate = join(await mkdtemp(join(tmpdir(), "stepwise-gate-")), "go");
    const def = {
      name: "long-task",
      nodes: [
        {
          id: "work",
          type: "command",
          command: 'echo "step one done"; while [ ! -f "$GATE" ]; do sleep 0.1; done; echo "step two done"',
          env: { GATE: gate },
        },
      ],
    };
    await call("PUT", "/api/workflows/long-task", def);
    const { body } = await call("POST", "/api/workflows/long-task/trigger", {});
    let live = "";
    for (let i = 0; i < 300 && !live.includes("step one done"); i++) {
      await new Promise((res) => setTimeout(res, 100));
      live = await (
        await fetch(`${stack.url}/api/runs/${body.runId}/logs`, { headers: { authorization: `Bearer ${KEY}` } })
      ).text();
    }
    expect(live).toBe("work | step one done\n");
    expect((await call("GET", `/api/runs/${body.runId}`)).body.status).toBe("running");
    await writeFile(gate, "");
    await waitFor(body.runId, ["succeeded"]);
    const done = await (
      await fetch(`${stack.url}/api/runs/${body.runId}/logs`, { headers: { authorization: `Bearer ${KEY}` } })
    ).text();
    expect(done).toBe("work | step one done\nwork | step two done\n");
    // The finished log is short enough to live in the task record: the live copy in S3 is gone.
    expect(await stack.deps.blobs.list(`orgs/default/runs/${body.runId}/`)).toEqual([]);
  });

  it("reconciles a run whose execution was stopped outside the handlers", async () => {
    const def = {
      name: "stalled",
      nodes: [
        { id: "gate", type: "approval" },
        { id: "after", type: "command", needs: ["gate"], command: "true" },
      ],
    };
    await call("PUT", "/api/workflows/stalled", def);
    const { body } = await call("POST", "/api/workflows/stalled/trigger", {});
    await waitFor(body.runId, ["awaiting_approval"]);
    // What an operator's StopExecution (or an execution timeout) does in the cloud.
    stack.orchestrator.runs.stop(body.runId);
    const run = await waitFor(body.runId, ["failed"]);
    expect(run.error).toMatchObject({ code: "execution_ended" });
    expect(run.error.message).toContain("ABORTED");
    const tasks = (await call("GET", `/api/runs/${body.runId}/tasks`)).body.items as Array<{
      nodeId: string;
      status: string;
    }>;
    expect(tasks.find((t) => t.nodeId === "gate")?.status).toBe("cancelled");
    expect(tasks.find((t) => t.nodeId === "after")?.status).toBe("skipped");
  });
});

describe("AwaitHuman ended by SendTaskFailure", () => {
  /** Runs the real run ASL in the interpreter with stand-in handlers and fails the human wait with `error`. */
  async function failWait(error: string, inHandler = false) {
    const calls: string[] = [];
    const failures: unknown[] = [];
    let machine: LocalStateMachine;
    const definition = buildRunStateMachine({ advance: "advance", awaitHuman: "await", recordFailure: "record" });
    const status = await new Promise<string>((resolve) => {
      let advances = 0;
      machine = new LocalStateMachine(
        {
          definition,
          tasks: {
            [STATE.advance]: async () => {
              calls.push("advance");
              advances++;
              return advances === 1
                ? { runId: "run_X", orgId: "o", next: "human", seq: 1, Payload: { humanTimeoutSeconds: 60 } }
                : { runId: "run_X", orgId: "o", next: "failed", seq: 2 };
            },
            [STATE.recordFailure]: async (payload) => {
              calls.push("record-failure");
              failures.push((payload as { error: unknown }).error);
              return payload;
            },
          },
          waitForToken: {
            [STATE.awaitHuman]: async (payload) => {
              calls.push("await-human");
              const token = (payload as { token: string }).token;
              const fail = () => machine.sendTaskFailure(token, error, "rejected by bob: numbers are off");
              // A decision can land while the handler is still storing the token: failed before it returns.
              if (inHandler) {
                fail();
                await new Promise((r) => setTimeout(r, 20));
              } else setTimeout(fail, 5);
            },
          },
          onAbnormalEnd: async (detail) => resolve(detail.status),
        },
        new CostMeter(),
      );
      machine.start("run_X", { runId: "run_X", orgId: "o" });
    });
    return { status, calls, failures };
  }

  it("a rejection goes back to Advance, which ends the run from the step's record", async () => {
    const r = await failWait(HUMAN_REJECTED);
    expect(r.calls).toEqual(["advance", "await-human", "advance"]);
    expect(r.failures).toEqual([]);
    expect(r.status).toBe("FAILED");
  });

  it("a rejection that lands while the wait is being set up is handled the same way", async () => {
    const r = await failWait(HUMAN_REJECTED, true);
    expect(r.calls).toEqual(["advance", "await-human", "advance"]);
    expect(r.status).toBe("FAILED");
  });

  it("any other failure of the wait is recorded by RecordFailure", async () => {
    const r = await failWait("Boom");
    expect(r.calls).toEqual(["advance", "await-human", "record-failure"]);
    expect(r.failures).toEqual([{ Error: "Boom", Cause: "rejected by bob: numbers are off" }]);
    expect(r.status).toBe("FAILED");
  });
});
