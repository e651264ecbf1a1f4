// The synthesized run state machine on moto's interpreter, its Lambda tasks answered by the real handlers (loaded
// with the environment the stack gives them), every other AWS call against moto; what a user sees is read through the
// api function with API Gateway's events.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { StepwiseStack } from "../../infra/stepwise-stack.ts";
import { MAX_TASK_TIMEOUT_SECONDS } from "../../shared/domain/workflow.ts";
import { ADVANCE_BUDGET_SECONDS } from "../../shared/state-machine/run-state-machine.ts";
import { pollUntil } from "../support/poll.ts";
import { PLATFORM_KEY } from "./support/cloud-stack.ts";
import { type Scenario, startScenario } from "./support/scenario.ts";
import { type Json, synthesizeStack } from "./support/synth.ts";
import { requireTool } from "./support/tools.ts";

const motoServer = requireTool("moto_server");
// A scenario starts a moto_server and cold-starts the functions it needs: seconds on an idle machine, far more on a
// busy CI runner.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });
let stack: StepwiseStack;
let template: Json;
let scenario: Scenario | undefined;

const terminal = ["succeeded", "no_action", "failed", "cancelled"];

describe.skipIf(!motoServer)("the run state machine on moto", () => {
  beforeAll(() => {
    ({ stack, template } = synthesizeStack());
  }, 120_000);
  afterEach(async () => {
    await scenario?.stop();
    scenario = undefined;
  });

  async function start(faults?: Parameters<typeof startScenario>[3]["faults"]): Promise<Scenario> {
    scenario = await startScenario(motoServer as string, stack, template, { executeStateMachines: true, faults });
    return scenario;
  }

  /** An approver key of the default org: whoever triggered the run may not approve it. */
  async function approverKey(s: Scenario): Promise<string> {
    const res = await s.api("POST", "/api/keys", { key: PLATFORM_KEY, body: { name: "approver", role: "approver" } });
    expect(res.status, res.text).toBe(201);
    return res.body.key as string;
  }

  const greet = {
    id: "greet",
    type: "script",
    runtime: "node",
    code: "export default async () => ({ greeting: 'hi' })",
  };
  const signOff = (extra: Json = {}) => ({
    id: "sign-off",
    type: "approval",
    needs: ["greet"],
    approvers: { count: 1 },
    timeoutSeconds: 3600,
    ...extra,
  });
  const after = { id: "after", type: "command", needs: ["sign-off"], command: "echo done" };

  async function trigger(s: Scenario, definition: Json): Promise<string> {
    const put = await s.api("PUT", `/api/workflows/${definition.name}`, { key: PLATFORM_KEY, body: definition });
    expect(put.status, put.text).toBe(201);
    const res = await s.api("POST", `/api/workflows/${definition.name}/trigger`, { key: PLATFORM_KEY, body: {} });
    expect(res.status, res.text).toBe(202);
    return res.body.runId as string;
  }

  async function runUntil(s: Scenario, runId: string, done: (status: string) => boolean): Promise<Json> {
    return pollUntil(
      `run ${runId}`,
      async () => {
        const res = await s.api("GET", `/api/runs/${runId}`, { key: PLATFORM_KEY });
        return done(res.body.status) ? (res.body as Json) : null;
      },
      180_000,
    );
  }

  it("runs a script and a command to succeeded", async () => {
    const s = await start();
    const runId = await trigger(s, {
      name: "cloud-hello",
      nodes: [
        { id: "greet", type: "script", runtime: "node", code: "export default async () => ({ greeting: 'hello' })" },
        {
          id: "echo",
          type: "command",
          needs: ["greet"],
          command: 'echo "heard=$GREETING" >> "$STEPWISE_OUTPUT"',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a Stepwise context reference.
          env: { GREETING: "${context.greeting}" },
        },
      ],
    });
    const run = await runUntil(s, runId, (st) => terminal.includes(st));
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.context).toMatchObject({ heard: { type: "string", value: "hello" } });
    expect(s.moto.invocations.map((i) => i.functionName)).toEqual([s.cloud.functionNames.advanceRun]);
  });

  it("parks a run on an approval and resumes it when approved (AwaitHuman's task token on moto)", async () => {
    const s = await start();
    const runId = await trigger(s, { name: "cloud-approval", nodes: [greet, signOff(), after] });
    const parked = await runUntil(s, runId, (st) => st === "awaiting_approval");
    expect(parked.currentStateName).toBe("sign-off");
    const pending = await s.api("GET", "/api/approvals?status=pending", { key: PLATFORM_KEY });
    expect(pending.body.items.map((i: Json) => i.runId)).toEqual([runId]);
    const key = await approverKey(s);
    const decision = await s.api("POST", `/api/runs/${runId}/approvals/sign-off`, {
      key,
      body: { decision: "approve", comment: "fine" },
    });
    expect(decision.status, decision.text).toBe(200);
    const run = await runUntil(s, runId, (st) => terminal.includes(st));
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    const names = s.moto.invocations.map((i) => i.functionName);
    expect(names).toEqual([
      s.cloud.functionNames.advanceRun,
      s.cloud.functionNames.awaitHuman,
      s.cloud.functionNames.advanceRun,
    ]);
  });

  it("ends a run failed when the approval is rejected (SendTaskFailure caught, Advance records who and why)", async () => {
    const s = await start();
    const runId = await trigger(s, { name: "cloud-reject", nodes: [greet, signOff(), after] });
    await runUntil(s, runId, (st) => st === "awaiting_approval");
    const key = await approverKey(s);
    const decision = await s.api("POST", `/api/runs/${runId}/approvals/sign-off`, {
      key,
      body: { decision: "reject", comment: "numbers are off" },
    });
    expect(decision.status, decision.text).toBe(200);
    const run = await runUntil(s, runId, (st) => terminal.includes(st));
    expect(run.status).toBe("failed");
    expect(JSON.stringify(run.error)).toContain("numbers are off");
    const tasks = await s.api("GET", `/api/runs/${runId}/tasks/after`, { key: PLATFORM_KEY });
    expect(tasks.body.status).toBe("skipped");
  });

  it("applies onTimeout when nobody decides (the AwaitHuman task times out on moto)", async () => {
    const s = await start();
    const runId = await trigger(s, {
      name: "cloud-timeout",
      nodes: [greet, signOff({ timeoutSeconds: 2, onTimeout: "approve" }), after],
    });
    const run = await runUntil(s, runId, (st) => terminal.includes(st));
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    const task = await s.api("GET", `/api/runs/${runId}/tasks/sign-off`, { key: PLATFORM_KEY });
    expect(task.body.status).toBe("succeeded");
  });

  it("waits on a wait node in the Wait state, then finishes", async () => {
    const s = await start();
    const started = Date.now();
    const runId = await trigger(s, {
      name: "cloud-wait",
      nodes: [
        greet,
        // Well past what the engine waits inline (2 s), so the run goes through the Wait state.
        { id: "cool-down", type: "wait", needs: ["greet"], seconds: 10 },
        { ...after, needs: ["cool-down"] },
      ],
    });
    const run = await runUntil(s, runId, (st) => terminal.includes(st));
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(s.moto.invocations.map((i) => i.functionName)).toEqual([
      s.cloud.functionNames.advanceRun,
      s.cloud.functionNames.advanceRun,
    ]);
  });

  it("survives Lambda throttling while parking a run on an approval (Retry on AwaitHuman)", async () => {
    const throttled = { status: 429, type: "TooManyRequestsException" };
    const s = await start({ awaitHuman: [throttled, throttled] });
    const runId = await trigger(s, { name: "cloud-throttle", nodes: [greet, signOff(), after] });
    const awaits = () => s.moto.invocations.filter((i) => i.functionName === s.cloud.functionNames.awaitHuman);
    await pollUntil(
      "the third AwaitHuman call",
      async () => awaits().length >= 3 || s.moto.invocations.length > 4,
      180_000,
    );
    expect(awaits().map((i) => i.error ?? "ok")).toEqual([
      "TooManyRequestsException",
      "TooManyRequestsException",
      "ok",
    ]);
    // The run is parked, not failed: the approval still decides it.
    const key = await approverKey(s);
    const decision = await s.api("POST", `/api/runs/${runId}/approvals/sign-off`, {
      key,
      body: { decision: "approve" },
    });
    expect(decision.status, decision.text).toBe(200);
    const run = await runUntil(s, runId, (st) => terminal.includes(st));
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
  });

  it("starts a command with the longest timeout the schema allows, and refuses one that could never start", async () => {
    // A node starts only if its timeout fits the Advance call's budget; one that never fits looped Advance → Route
    // until the execution hit the 25,000-event history cap.
    expect(MAX_TASK_TIMEOUT_SECONDS + 60).toBeLessThanOrEqual(ADVANCE_BUDGET_SECONDS);
    const s = await start();
    const tooLong = await s.api("PUT", "/api/workflows/cloud-too-long", {
      key: PLATFORM_KEY,
      body: { name: "cloud-too-long", nodes: [{ id: "slow", type: "command", command: "true", timeoutSeconds: 800 }] },
    });
    expect(tooLong.status, tooLong.text).toBe(400);
    expect(tooLong.body.error.code).toBe("validation_failed");
    expect(tooLong.text).toContain("slow");
    const runId = await trigger(s, {
      name: "cloud-longest",
      nodes: [{ id: "slow", type: "command", command: "echo ok", timeoutSeconds: MAX_TASK_TIMEOUT_SECONDS }],
    });
    const run = await runUntil(s, runId, (st) => terminal.includes(st));
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(s.moto.invocations.map((i) => i.functionName)).toEqual([s.cloud.functionNames.advanceRun]);
  });
});
