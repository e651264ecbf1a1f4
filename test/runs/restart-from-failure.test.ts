// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${params.x} is a Stepwise reference, not a JS template.
// Restart from the failed step through the API: carried-over nodes keep their evidence, context, files and human
// decisions; `from` re-runs an earlier node and what follows; `latest` re-runs only changed nodes; a secret input is
// asked again; the new run's audit trail opens with run.restarted and verify checks back to the original.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Json, startStack, type TestStack } from "../support/stack.ts";

let stack: TestStack;
let flag: string;
let approver: string;

const approvalFlow = (sideCommand = "echo side") => ({
  name: "rs-approve",
  parameters: { flag: { type: "string", required: true } },
  nodes: [
    { id: "prep", type: "command", command: 'echo "rows=3" >> "$STEPWISE_OUTPUT"; echo hello > out/data.txt' },
    { id: "side", type: "command", command: sideCommand },
    { id: "sign-off", type: "approval", needs: ["prep"], approvers: { count: 1 } },
    {
      id: "flaky",
      type: "command",
      needs: ["sign-off", "side"],
      inputs: ["data.txt"],
      env: { FLAG: "${params.flag}" },
      command: 'test -f "$FLAG" && cat in/data.txt',
    },
  ],
});

const tasksOf = async (runId: string): Promise<Record<string, Json>> => {
  const res = await stack.json(`/api/runs/${runId}/tasks`);
  return Object.fromEntries(res.items.map((t: Json) => [t.nodeId, t]));
};

const restart = (runId: string, body: unknown = {}, expect = 202) =>
  stack.json(`/api/runs/${runId}/restart`, { method: "POST", body, expect });

const approve = async (runId: string, nodeId: string) => {
  await stack.waitForRun(runId, ["awaiting_approval"]);
  await stack.json(`/api/runs/${runId}/approvals/${nodeId}`, {
    method: "POST",
    body: { decision: "approve" },
    key: approver,
  });
};

let failedRun: string;

beforeAll(async () => {
  stack = await startStack();
  flag = join(stack.dataDir, "flag");
  approver = await stack.createKey("approver", "ada");
  await stack.putWorkflow(approvalFlow());
  failedRun = await stack.trigger("rs-approve", { flag });
  await approve(failedRun, "sign-off");
  const run = await stack.waitForSealed(failedRun);
  expect(run.status).toBe("failed");
});

afterAll(async () => {
  await stack?.stop();
});

describe("restart", () => {
  it("refuses a run that succeeded or is still going (409), and an unknown node in from (400)", async () => {
    const going = await stack.trigger("rs-approve", { flag });
    await stack.waitForRun(going, ["awaiting_approval"]);
    const res = await stack.api(`/api/runs/${going}/restart`, { method: "POST", body: {} });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    await stack.json(`/api/runs/${going}/cancel`, { method: "POST", body: { reason: "test over" }, expect: 202 });
    const bad = await stack.api(`/api/runs/${failedRun}/restart`, { method: "POST", body: { from: ["nope"] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("'nope'");
  });

  it("re-runs the failed node only: the approval already given is not asked again", async () => {
    await writeFile(flag, "present");
    const accepted = await restart(failedRun);
    expect(accepted).toMatchObject({ restartOf: failedRun, rerun: ["flaky"], reused: ["prep", "side", "sign-off"] });
    const run = await stack.waitForSealed(accepted.runId);
    expect(run.status).toBe("succeeded");
    expect(run.trigger.type).toBe("restart");
    expect(run.restartOf).toBe(failedRun);
    expect(run.parameters).toEqual({ flag });
    expect(run.context.rows).toMatchObject({ type: "string", value: "3", writtenBy: "prep" });

    const old = await tasksOf(failedRun);
    const tasks = await tasksOf(accepted.runId);
    for (const id of ["prep", "side", "sign-off"]) {
      expect(tasks[id].status).toBe("succeeded");
      expect(tasks[id].reusedFrom).toEqual({ runId: failedRun, attempt: 1 });
      expect(tasks[id].attempts).toEqual(old[id].attempts); // the original evidence
    }
    expect(tasks["sign-off"].decisions).toEqual(old["sign-off"].decisions);
    expect(tasks.flaky.reusedFrom ?? null).toBeNull();
    expect(tasks.flaky.stdout).toContain("hello");
    expect(tasks.flaky.inputs).toEqual(old.prep.outputs);

    // The file is the original's stored content, served under the new run.
    const files = await stack.json(`/api/runs/${accepted.runId}/files`);
    expect(files.items).toEqual([{ ...old.prep.outputs[0], producedBy: "prep" }]);
    const bytes = await stack.api(`/api/runs/${accepted.runId}/files/data.txt`);
    expect(bytes.text).toBe("hello\n");

    // Nobody was asked: the run never waited for an approval.
    const audit = (await stack.json(`/api/runs/${accepted.runId}/audit`)).items;
    expect(audit.some((e: Json) => e.to === "awaiting_approval")).toBe(false);
    const oldRun = await stack.json(`/api/runs/${failedRun}`);
    expect(audit[0]).toMatchObject({
      seq: 1,
      type: "run.restarted",
      detail: { restartOf: { runId: failedRun, status: "failed", root: oldRun.root } },
    });
    console.log(
      "restart audit head:\n" +
        audit
          .slice(0, 6)
          .map((e: Json) => `${e.seq} ${e.type} ${e.from ?? "-"}→${e.to ?? "-"} ${JSON.stringify(e.detail)}`)
          .join("\n"),
    );
    const reusedEvents = audit.slice(1, 4);
    expect(reusedEvents.map((e: Json) => e.type)).toEqual(["task.reused", "task.reused", "task.reused"]);
    expect(reusedEvents.map((e: Json) => e.detail.nodeId).sort()).toEqual(["prep", "side", "sign-off"]);

    const report = await stack.json(`/api/runs/${accepted.runId}/verify`);
    expect(report).toMatchObject({ valid: true, problems: [], restartedFrom: [failedRun] });
    // The old run is untouched.
    expect((await stack.json(`/api/runs/${failedRun}`)).status).toBe("failed");
  });

  it("from an earlier node re-runs it and everything downstream, approval included", async () => {
    const accepted = await restart(failedRun, { from: ["prep"] });
    expect(accepted.rerun).toEqual(["prep", "sign-off", "flaky"]);
    expect(accepted.reused).toEqual(["side"]);
    await approve(accepted.runId, "sign-off");
    const run = await stack.waitForSealed(accepted.runId);
    expect(run.status).toBe("succeeded");
    const tasks = await tasksOf(accepted.runId);
    expect(tasks.prep.reusedFrom ?? null).toBeNull();
    expect(tasks.side.reusedFrom).toEqual({ runId: failedRun, attempt: 1 });
  });

  it("with latest, carries over only nodes whose own definition is unchanged", async () => {
    const v2 = await stack.putWorkflow(approvalFlow("echo side v2"));
    expect(v2.version).toBe(2);
    const accepted = await restart(failedRun, { definition: "latest" });
    expect(accepted.rerun).toEqual(["side", "flaky"]);
    expect(accepted.reused).toEqual(["prep", "sign-off"]);
    const run = await stack.waitForSealed(accepted.runId);
    expect(run).toMatchObject({ status: "succeeded", workflow: { version: 2 } });
    const tasks = await tasksOf(accepted.runId);
    expect(tasks.side.stdout).toContain("side v2");
    expect(tasks["sign-off"].reusedFrom).toEqual({ runId: failedRun, attempt: 1 });
    expect((await stack.json(`/api/runs/${accepted.runId}/verify`)).valid).toBe(true);
  });

  it("asks a secret input again (its value is gone once the run ended), and re-runs what follows it", async () => {
    const secretFlag = join(stack.dataDir, "secret-flag");
    await stack.putWorkflow({
      name: "rs-secret",
      parameters: { flag: { type: "string", required: true } },
      nodes: [
        { id: "ok", type: "approval", approvers: { count: 1 } },
        { id: "otp", type: "input", needs: ["ok"], fields: { code: { type: "string", secret: true } } },
        {
          id: "use",
          type: "command",
          needs: ["otp"],
          env: { FLAG: "${params.flag}" },
          command: 'test -f "$FLAG" && test -n "$STEPWISE_SECRET_OTP_CODE" && echo used',
        },
      ],
    });
    const first = await stack.trigger("rs-secret", { flag: secretFlag });
    await approve(first, "ok");
    await stack.waitForRun(first, ["awaiting_input"]);
    await stack.json(`/api/runs/${first}/inputs/otp`, { method: "POST", body: { values: { code: "s3cret-1" } } });
    expect((await stack.waitForSealed(first)).status).toBe("failed");

    await writeFile(secretFlag, "present");
    const accepted = await restart(first);
    expect(accepted).toMatchObject({ rerun: ["otp", "use"], reused: ["ok"] });
    await stack.waitForRun(accepted.runId, ["awaiting_input"]);
    const waiting = await tasksOf(accepted.runId);
    expect(waiting.ok).toMatchObject({ status: "succeeded", reusedFrom: { runId: first, attempt: 1 } });
    expect(waiting.otp.status).toBe("awaiting_input");
    await stack.json(`/api/runs/${accepted.runId}/inputs/otp`, {
      method: "POST",
      body: { values: { code: "s3cret-2" } },
    });
    const run = await stack.waitForSealed(accepted.runId);
    expect(run.status).toBe("succeeded");
    expect((await tasksOf(accepted.runId)).use.stdout).toContain("used");
  });
});
