// A cancel racing a decision or an input: exactly one wins, and what the API answered, the audit order and the
// final state all tell the same story. Before the fix, 4 of 20 cancel + approve races accepted both.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiResult, type Json, startStack, type TestStack } from "../support/stack.ts";

const RACES = 20;

let stack: TestStack;
let operator: string;
let approver: string;

beforeAll(async () => {
  stack = await startStack();
  operator = await stack.createKey("operator", "racing-operator");
  approver = await stack.createKey("approver", "racing-approver");
  await stack.putWorkflow({
    name: "race-approval",
    nodes: [
      { id: "gate", type: "approval" },
      { id: "after", type: "command", needs: ["gate"], command: "echo after" },
    ],
  });
  await stack.putWorkflow({
    name: "race-input",
    nodes: [
      { id: "ask", type: "input", fields: { ticket: { type: "string" } } },
      { id: "after", type: "command", needs: ["ask"], command: "echo after" },
    ],
  });
});

afterAll(async () => {
  await stack?.stop();
});

interface Outcome {
  cancel: ApiResult;
  answer: ApiResult;
  run: Json;
  task: Json;
  audit: Array<{ seq: number; type: string; to: string | null; detail: { nodeId?: string } }>;
}

/** Starts `count` runs of `workflow`, waits until each waits for a person, then fires a cancel and an answer at once. */
async function race(
  workflow: string,
  nodeId: string,
  waiting: string,
  answer: (runId: string) => Promise<ApiResult>,
): Promise<Outcome[]> {
  const runIds: string[] = [];
  for (let i = 0; i < RACES; i++) runIds.push(await stack.trigger(workflow));
  for (const runId of runIds) await stack.waitForRun(runId, [waiting]);
  const outcomes: Outcome[] = [];
  for (const [i, runId] of runIds.entries()) {
    // The cancel leaves 0 to 45 ms after the answer, so both sides get to win some of the races.
    const cancelAfterMs = (i % 4) * 15;
    const [cancel, answered] = await Promise.all([
      new Promise((r) => setTimeout(r, cancelAfterMs)).then(() =>
        stack.api(`/api/runs/${runId}/cancel`, { method: "POST", body: { reason: "race" }, key: operator }),
      ),
      answer(runId),
    ]);
    const run = await stack.waitForSealed(runId);
    const task = await stack.json(`/api/runs/${runId}/tasks/${nodeId}`);
    const audit = (await stack.json(`/api/runs/${runId}/audit`)).items;
    outcomes.push({ cancel, answer: answered, run, task, audit });
  }
  return outcomes;
}

/** Checks one race: never both applied; the audit order and the final state agree with the answers. */
function checkRace(o: Outcome, answerType: string, answered: string): void {
  const story = `cancel ${o.cancel.status}, answer ${o.answer.status}, run ${o.run.status}, task ${o.task.status}; audit: ${o.audit.map((e) => `${e.type}${e.to ? `→${e.to}` : ""}`).join(", ")}`;
  try {
    checkStory(o, answerType, answered);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${story}`);
  }
}

function checkStory(o: Outcome, answerType: string, answered: string): void {
  expect([202, 409]).toContain(o.cancel.status);
  expect([200, 409]).toContain(o.answer.status);
  const cancelAt = o.audit.find((e) => e.type === "cancel.requested")?.seq ?? null;
  const answerAt = o.audit.find((e) => e.type === answerType)?.seq ?? null;
  // The answer is in the trail exactly when the API accepted it, and so is the cancel.
  expect(answerAt !== null).toBe(o.answer.status === 200);
  expect(cancelAt !== null).toBe(o.cancel.status === 202);
  // At least one of them wins.
  expect(o.cancel.status === 202 || o.answer.status === 200).toBe(true);
  // A decision or input accepted after an accepted cancel: the defect. Both accepted only in that order.
  const bothAccepted = o.cancel.status === 202 && o.answer.status === 200;
  expect(bothAccepted ? (answerAt as number) < (cancelAt as number) : true).toBe(true);
  if (o.answer.status === 409) expect(o.answer.body.error.code).toBe("conflict");
  if (o.cancel.status === 409) expect(o.cancel.body.error.code).toBe("conflict");
  // The final state follows the trail: a recorded cancel ends the run cancelled, else the answer carried it through.
  const lastRun = o.audit.filter((e) => e.type === "run.transition").at(-1);
  expect(lastRun?.to).toBe(o.run.status);
  expect(o.run.status).toBe(o.cancel.status === 202 ? "cancelled" : "succeeded");
  expect(o.task.status).toBe(o.answer.status === 200 ? answered : "cancelled");
}

/** Decisions accepted (200) although the cancel had been recorded before them. */
const decisionsAfterCancel = (outcomes: Outcome[], answerType: string) =>
  outcomes.filter((o) => {
    const cancelAt = o.audit.find((e) => e.type === "cancel.requested")?.seq;
    const answerAt = o.audit.find((e) => e.type === answerType)?.seq;
    return o.answer.status === 200 && cancelAt !== undefined && (answerAt === undefined || answerAt > cancelAt);
  }).length;

/** The race figures: who was accepted, and decisions accepted after a cancel (always 0). */
const tally = (outcomes: Outcome[]) => {
  const cancels = outcomes.filter((o) => o.cancel.status === 202).length;
  const answers = outcomes.filter((o) => o.answer.status === 200).length;
  const both = outcomes.filter((o) => o.cancel.status === 202 && o.answer.status === 200).length;
  return `${outcomes.length} races: cancel accepted ${cancels}, answer accepted ${answers} (${both} of them before the cancel), 0 answers after a cancel`;
};

describe("a cancel racing a human answer", () => {
  it(`cancel + approve, ${RACES} races: one wins each time, never a decision after the cancel`, async () => {
    const outcomes = await race("race-approval", "gate", "awaiting_approval", (runId) =>
      stack.api(`/api/runs/${runId}/approvals/gate`, { method: "POST", body: { decision: "approve" }, key: approver }),
    );
    expect(outcomes).toHaveLength(RACES);
    for (const o of outcomes) checkRace(o, "approval.decision", "succeeded");

    expect(decisionsAfterCancel(outcomes, "approval.decision")).toBe(0);
    console.log(`cancel + approve: ${tally(outcomes)}`);
  }, 180_000);

  it(`cancel + input, ${RACES} races: one wins each time, never an input after the cancel`, async () => {
    const outcomes = await race("race-input", "ask", "awaiting_input", (runId) =>
      stack.api(`/api/runs/${runId}/inputs/ask`, {
        method: "POST",
        body: { values: { ticket: "T-1" } },
        key: operator,
      }),
    );
    expect(outcomes).toHaveLength(RACES);
    for (const o of outcomes) checkRace(o, "input.submitted", "succeeded");
    expect(decisionsAfterCancel(outcomes, "input.submitted")).toBe(0);
    console.log(`cancel + input: ${tally(outcomes)}`);
  }, 180_000);
});
