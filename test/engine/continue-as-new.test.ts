// Continue-as-new of the run machine on aws-local-stepfunctions (the embedded stack, the same ASL as the cloud), with
// the execution-age threshold set to seconds instead of 351 days: a run waiting on an approval wakes before its
// execution reaches the threshold, continues in a new execution named <runId>-c<n> with run.execution_continued in its
// audit trail, keeps waiting, and is decided and finished in the continued execution; a cancel stops continuations.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import { applyExecutionAge, continuationName } from "../../shared/engine/continue-as-new.ts";
import { buildRunStateMachine, STATE } from "../../shared/state-machine/run-state-machine.ts";

const KEY = "continue-as-new-test-platform-key-0123";
const THRESHOLD_SECONDS = 2;
let stack: EmbeddedStack;
let dataDir: string;

async function call(method: string, path: string, body?: unknown, key = KEY) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const continued = async (runId: string) =>
  ((await call("GET", `/api/runs/${runId}/audit`)).body.items as any[]).filter(
    (e) => e.type === "run.execution_continued",
  );

const WF = {
  name: "long-wait",
  nodes: [
    { id: "first", type: "command", command: "echo first" },
    { id: "sign-off", type: "approval", needs: ["first"], approvers: { count: 1 }, timeoutSeconds: 3600 },
    { id: "after", type: "command", needs: ["sign-off"], command: "echo after" },
  ],
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-can-"));
  stack = await startEmbedded({
    dataDir,
    port: 0,
    apiKey: KEY,
    examplesDir: null,
    settings: { cancelPollMs: 50, workRoot: join(dataDir, "work"), continueAfterSeconds: THRESHOLD_SECONDS },
  });
  expect((await call("PUT", `/api/workflows/${WF.name}`, WF)).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("continue-as-new (aws-local-stepfunctions)", () => {
  it("the ASL routes next=continue to a startExecution of the same machine, then succeeds", () => {
    const asl = buildRunStateMachine({ advance: "a", awaitHuman: "h", recordFailure: "f" }) as any;
    expect(asl.States[STATE.route].Choices).toContainEqual({
      Variable: "$.next",
      StringEquals: "continue",
      Next: STATE.continueAsNew,
    });
    expect(asl.States[STATE.continueAsNew]).toMatchObject({
      Resource: "arn:aws:states:::states:startExecution",
      Parameters: { "StateMachineArn.$": "$$.StateMachine.Id", "Name.$": "$.continueAs" },
      Next: STATE.continued,
    });
    expect(asl.States[STATE.advance].Parameters.Payload.execution).toEqual({
      "name.$": "$$.Execution.Name",
      "startTime.$": "$$.Execution.StartTime",
    });
  });

  it("cuts waits to the execution's time left and continues once it is spent", () => {
    const start = "2026-01-01T00:00:00.000Z";
    const t0 = Date.parse(start);
    const human = {
      runId: "run_X",
      orgId: "o",
      seq: 3,
      next: "human" as const,
      Payload: { humanTimeoutSeconds: 365 * 86400 },
    };
    const exec = { name: "run_X", startTime: start };
    // 300 days in: the 365-day wait is cut to the 51 days left before 351.
    expect(applyExecutionAge(human, exec, t0 + 300 * 86400_000).Payload).toEqual({ humanTimeoutSeconds: 51 * 86400 });
    expect(
      applyExecutionAge({ ...human, next: "wait", waitSeconds: 60 * 86400 }, exec, t0 + 300 * 86400_000).waitSeconds,
    ).toBe(51 * 86400);
    expect(applyExecutionAge(human, exec, t0 + 351 * 86400_000)).toMatchObject({
      next: "continue",
      continueAs: "run_X-c1",
    });
    expect(applyExecutionAge({ ...human, next: "done" }, exec, t0 + 400 * 86400_000).next).toBe("done");
    expect(continuationName("run_X", "run_X-c7")).toBe("run_X-c8");
  });

  it("a run waiting on an approval continues in new executions, then is approved and finishes", async () => {
    const trig = await call("POST", `/api/workflows/${WF.name}/trigger`, { parameters: {} });
    expect(trig.status).toBe(202);
    const runId = trig.body.runId as string;
    const events = await until("two continuations", async () => {
      const e = await continued(runId);
      return e.length >= 2 ? e : null;
    });
    expect(events[0].detail).toMatchObject({ from: runId, to: `${runId}-c1` });
    expect(events[1].detail).toMatchObject({ from: `${runId}-c1`, to: `${runId}-c2` });
    expect((await call("GET", `/api/runs/${runId}`)).body.status).toBe("awaiting_approval");

    const approver = await call("POST", "/api/keys", { name: "approver", role: "approver" });
    expect(approver.status).toBe(201);
    const decided = await until("the decision", async () => {
      const r = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, approver.body.key);
      // A decision landing while the execution hands over to the next one waits for its new token: retry.
      return r.status === 200 ? r : null;
    });
    expect(decided.status).toBe(200);
    const done = await until("the run's end", async () => {
      const r = (await call("GET", `/api/runs/${runId}`)).body;
      return ["succeeded", "failed", "cancelled"].includes(r.status) ? r : null;
    });
    expect(done.status).toBe("succeeded");
    const verify = await call("GET", `/api/runs/${runId}/verify`);
    expect(verify.body.valid).toBe(true);
  }, 60_000);

  it("cancelling a continued run stops its current execution", async () => {
    const trig = await call("POST", `/api/workflows/${WF.name}/trigger`, { parameters: {} });
    const runId = trig.body.runId as string;
    await until("a continuation", async () => ((await continued(runId)).length >= 1 ? true : null));
    expect((await call("POST", `/api/runs/${runId}/cancel`, {})).status).toBe(202);
    // No execution goes on continuing the cancelled run.
    const before = (await continued(runId)).length;
    await new Promise((r) => setTimeout(r, (THRESHOLD_SECONDS + 2) * 1000));
    expect((await continued(runId)).length).toBe(before);
    expect((await call("GET", `/api/runs/${runId}`)).body.status).toBe("cancelled");
  }, 60_000);
});
