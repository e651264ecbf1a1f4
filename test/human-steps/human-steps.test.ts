import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedStack, startEmbedded } from "../../local/embedded.ts";
import { systemClock } from "../../shared/domain/clock.ts";
import { hashJson } from "../../shared/domain/hash.ts";
import { listFiles, scanTable } from "../support/secret-scan.ts";

const PLATFORM_KEY = "test-platform-key-0123456789";
const SECRET = "731946"; // the one-time code that must appear nowhere

let stack: EmbeddedStack;
let dataDir: string;
const keys: Record<string, string> = {};
/** Every response body this suite received, searched for the secret at the end. */
const seen: string[] = [];

async function call(
  method: string,
  path: string,
  body?: unknown,
  key = keys.operator ?? PLATFORM_KEY,
  on: EmbeddedStack = stack,
) {
  const res = await fetch(`${on.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  seen.push(text);
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // text/plain routes
  }
  return { status: res.status, body: json as Record<string, any> };
}

async function waitFor(runId: string, statuses: string[], timeoutMs = 20_000, key?: string, on?: EmbeddedStack) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await call("GET", `/api/runs/${runId}`, undefined, key, on);
    if (statuses.includes(r.body.status)) return r.body;
    if (Date.now() > until) throw new Error(`run ${runId} is ${r.body.status}, expected ${statuses.join("|")}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function apply(def: Record<string, unknown>) {
  const r = await call("PUT", `/api/workflows/${def.name}`, def, PLATFORM_KEY);
  expect([200, 201]).toContain(r.status);
}

async function trigger(name: string, parameters: Record<string, unknown> = {}, key = keys.operator) {
  const r = await call("POST", `/api/workflows/${name}/trigger`, { parameters }, key);
  expect(r.status).toBe(202);
  return r.body.runId as string;
}

const approvalFlow = (name: string, approval: Record<string, unknown>) => ({
  name,
  nodes: [
    { id: "prepare", type: "command", command: "echo prepared; echo rows:number=3 >> $STEPWISE_OUTPUT" },
    { id: "sign-off", type: "approval", needs: ["prepare"], ...approval },
    { id: "ship", type: "command", needs: ["sign-off"], command: "echo shipped" },
  ],
});

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-human-"));
  stack = await startEmbedded({ dataDir, port: 0, apiKey: PLATFORM_KEY, examplesDir: null });
  for (const [name, role] of [
    ["operator", "operator"],
    ["alice", "approver"],
    ["bob", "approver"],
    ["victor", "viewer"],
  ] as const) {
    const r = await call("POST", "/api/keys", { name, role }, PLATFORM_KEY);
    keys[name] = r.body.key;
  }
  await apply(approvalFlow("one-approver", { approvers: { count: 1 } }));
  await apply(approvalFlow("two-approvers", { approvers: { count: 2 } }));
  await apply(approvalFlow("timeout-reject", { timeoutSeconds: 1, onTimeout: "reject" }));
  await apply(approvalFlow("timeout-approve", { timeoutSeconds: 1, onTimeout: "approve" }));
  await apply(approvalFlow("self-ok", { allowSelfApproval: true }));
  await apply({
    name: "with-otp",
    nodes: [
      {
        id: "otp",
        type: "input",
        fields: {
          ticket: { type: "string", pattern: "[A-Z]+-[0-9]+" },
          code: { type: "string", secret: true, pattern: "[0-9]{6}" },
          env: { type: "enum", values: ["staging", "prod"] },
        },
      },
      {
        id: "use-it",
        type: "script",
        runtime: "node",
        needs: ["otp"],
        code: "export default async ({ context, secrets }) => { console.log('code is', secrets['otp.code']); return { codeLength: secrets['otp.code'].length, env: context['otp.env'] }; }",
      },
      // Over 1 KiB of log, so that it is an S3 object of its own, searched for the secret like every stored byte.
      {
        id: "shell",
        type: "command",
        needs: ["otp"],
        command: 'echo "shell sees $STEPWISE_SECRET_OTP_CODE"; seq 1 400',
      },
    ],
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe("approvals", () => {
  it("lists every waiting step of a run in the inbox, newest first, beside other runs' steps", async () => {
    await apply({
      name: "two-waits",
      nodes: [
        { id: "legal", type: "approval" },
        { id: "ticket", type: "input", fields: { ref: { type: "string", required: true } } },
      ],
    });
    const first = await trigger("one-approver");
    await waitFor(first, ["awaiting_approval"]);
    const both = await trigger("two-waits");
    const r = await waitFor(both, ["awaiting_approval", "awaiting_input"]);
    expect(r.status).not.toBe("running");
    const inbox = await call("GET", "/api/approvals?status=pending", undefined, keys.alice);
    expect(inbox.status).toBe(200);
    const mine = inbox.body.items.filter((i: { runId: string }) => i.runId === first || i.runId === both);
    expect(
      mine.map((i: { runId: string; nodeId: string }) => `${i.runId === first ? "first" : "both"}:${i.nodeId}`),
    ).toEqual(expect.arrayContaining(["first:sign-off", "both:legal", "both:ticket"]));
    expect(mine).toHaveLength(3);
    const since = inbox.body.items.map((i: { since: string }) => i.since);
    // Lists are newest first (contract conventions), the inbox too.
    expect(since).toEqual([...since].sort().reverse());
    expect(mine.find((i: { nodeId: string }) => i.nodeId === "ticket")).toMatchObject({
      type: "input",
      workflow: expect.objectContaining({ name: "two-waits" }),
      fields: { ref: { type: "string", required: true } },
    });
    for (const runId of [first, both]) await call("POST", `/api/runs/${runId}/cancel`, {});
  });

  it("waits for approval, lists it in the inbox, and goes on when approved", async () => {
    const runId = await trigger("one-approver");
    const waiting = await waitFor(runId, ["awaiting_approval"]);
    expect(waiting.currentStateName).toBe("sign-off");
    const inbox = await call("GET", "/api/approvals?status=pending", undefined, keys.alice);
    const item = inbox.body.items.find((i: { runId: string }) => i.runId === runId);
    expect(item).toMatchObject({ nodeId: "sign-off", type: "approval", whoMayAnswer: ["approver", "admin"] });
    expect(item.approvals).toMatchObject({ required: 1, received: 0 });

    // What the approver sees while deciding: the run and its context (prepare's rows).
    const seenByAlice = await call("GET", `/api/runs/${runId}`, undefined, keys.alice);
    expect(seenByAlice.body.context).toMatchObject({ rows: { type: "number", value: 3 } });
    const seenHash = hashJson(seenByAlice.body.context);

    const ok = await call(
      "POST",
      `/api/runs/${runId}/approvals/sign-off`,
      { decision: "approve", comment: "looks good" },
      keys.alice,
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "succeeded", approvals: { required: 1, received: 1 } });
    expect(ok.body.contextHash).toBe(seenHash);
    const done = await waitFor(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");

    const audit = await call("GET", `/api/runs/${runId}/audit`);
    const decision = audit.body.items.find((e: { type: string }) => e.type === "approval.decision");
    // The audit event carries the hash of the context Alice saw, the same one kept on her decision.
    expect(decision).toMatchObject({
      actor: "alice",
      detail: { decision: "approve", comment: "looks good", nodeId: "sign-off", contextHash: seenHash },
    });
    const task = await call("GET", `/api/runs/${runId}/tasks/sign-off`);
    expect(task.body.decisions[0]).toMatchObject({ by: "alice", decision: "approve", contextHash: seenHash });
    expect(seenHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const after = await call("GET", "/api/approvals?status=pending", undefined, keys.alice);
    expect(after.body.items.some((i: { runId: string }) => i.runId === runId)).toBe(false);
  });

  it("fails the run on a rejection, naming who rejected and why", async () => {
    const runId = await trigger("one-approver");
    await waitFor(runId, ["awaiting_approval"]);
    const r = await call(
      "POST",
      `/api/runs/${runId}/approvals/sign-off`,
      { decision: "reject", comment: "numbers are off" },
      keys.bob,
    );
    expect(r.status).toBe(200);
    const run = await waitFor(runId, ["failed", "succeeded"]);
    expect(run.status).toBe("failed");
    expect(run.error.message).toContain("bob");
    expect(run.error.message).toContain("numbers are off");
    const tasks = await call("GET", `/api/runs/${runId}/tasks`);
    expect(tasks.body.items.find((t: { nodeId: string }) => t.nodeId === "ship").status).toBe("skipped");
  });

  it("needs two distinct people for a quorum of two; the same person twice is a conflict", async () => {
    const runId = await trigger("two-approvers");
    await waitFor(runId, ["awaiting_approval"]);
    const first = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, keys.alice);
    expect(first.body).toMatchObject({ status: "awaiting_approval", approvals: { required: 2, received: 1 } });
    const again = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, keys.alice);
    expect(again.status).toBe(409);
    expect((await call("GET", `/api/runs/${runId}`)).body.status).toBe("awaiting_approval");
    const second = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, keys.bob);
    expect(second.body).toMatchObject({ status: "succeeded", approvals: { required: 2, received: 2 } });
    expect((await waitFor(runId, ["succeeded", "failed"])).status).toBe("succeeded");
  });

  it("refuses self-approval unless allowed, and roles that may not approve", async () => {
    const adminKey = (await call("POST", "/api/keys", { name: "ada", role: "admin" }, PLATFORM_KEY)).body.key;
    const runId = await trigger("one-approver", {}, adminKey);
    await waitFor(runId, ["awaiting_approval"]);
    const self = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, adminKey);
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe("forbidden");
    const viewer = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, keys.victor);
    expect(viewer.status).toBe(403);
    const operator = await call(
      "POST",
      `/api/runs/${runId}/approvals/sign-off`,
      { decision: "approve" },
      keys.operator,
    );
    expect(operator.status).toBe(403);
    expect((await call("GET", `/api/runs/${runId}`)).body.status).toBe("awaiting_approval");
    await call("POST", `/api/runs/${runId}/cancel`, {}, adminKey);

    const allowed = await trigger("self-ok", {}, adminKey);
    await waitFor(allowed, ["awaiting_approval"]);
    const mine = await call("POST", `/api/runs/${allowed}/approvals/sign-off`, { decision: "approve" }, adminKey);
    expect(mine.status).toBe(200);
    expect((await waitFor(allowed, ["succeeded", "failed"])).status).toBe("succeeded");
  });

  it("applies onTimeout: reject fails the run, approve lets it go on", async () => {
    const rejected = await trigger("timeout-reject");
    const approved = await trigger("timeout-approve");
    const r1 = await waitFor(rejected, ["failed", "succeeded"]);
    expect(r1.status).toBe("failed");
    expect(r1.error.code).toBe("human_timeout");
    const r2 = await waitFor(approved, ["failed", "succeeded"]);
    expect(r2.status).toBe("succeeded");
    const audit = await call("GET", `/api/runs/${approved}/audit`);
    expect(audit.body.items.some((e: { type: string }) => e.type === "task.timeout")).toBe(true);
  });

  it("lets exactly one of two simultaneous deciders and a cancel win", async () => {
    const runId = await trigger("one-approver");
    await waitFor(runId, ["awaiting_approval"]);
    const results = await Promise.all([
      call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, keys.alice),
      call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "reject", comment: "no" }, keys.bob),
      call("POST", `/api/runs/${runId}/cancel`, { reason: "changed my mind" }, keys.operator),
    ]);
    const [alice, bob] = results;
    // The two deciders never both win the step.
    expect([alice?.status, bob?.status].filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(results.every((r) => [200, 202, 409].includes(r.status))).toBe(true);
    await waitFor(runId, ["succeeded", "failed", "cancelled"]);
    const audit = (await call("GET", `/api/runs/${runId}/audit`)).body.items as Array<{ type: string; to: string }>;
    const completing = audit.filter((e) => e.type === "approval.decision" && e.to !== "awaiting_approval");
    const step = (await call("GET", `/api/runs/${runId}/tasks/sign-off`)).body;
    // The step has exactly one outcome: a single decision completed it, or the cancel ended the wait.
    if (completing.length === 1) expect(step.status).toBe(completing[0]?.to);
    else {
      expect(completing.length).toBe(0);
      expect(step.status).toBe("cancelled");
      expect(alice?.status).toBe(409);
      expect(bob?.status).toBe(409);
    }
    const again = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, keys.alice);
    expect(again.status).toBe(409);
  });

  it("ends a waiting run cleanly when cancelled", async () => {
    const runId = await trigger("one-approver");
    await waitFor(runId, ["awaiting_approval"]);
    const r = await call("POST", `/api/runs/${runId}/cancel`, { reason: "not today" });
    expect(r.status).toBe(202);
    const run = await waitFor(runId, ["cancelled"]);
    expect(run.currentStateName).toBeNull();
    const tasks = (await call("GET", `/api/runs/${runId}/tasks`)).body.items as Array<{
      nodeId: string;
      status: string;
    }>;
    expect(tasks.find((t) => t.nodeId === "sign-off")?.status).toBe("cancelled");
    expect(tasks.find((t) => t.nodeId === "ship")?.status).toBe("skipped");
    const late = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, keys.alice);
    expect(late.status).toBe(409);
  });
});

describe("inputs", () => {
  it("rejects bad values naming the field and keeps waiting; keeps the secret out of every record", async () => {
    const runId = await trigger("with-otp");
    await waitFor(runId, ["awaiting_input"]);
    const bad = await call(
      "POST",
      `/api/runs/${runId}/inputs/otp`,
      { values: { ticket: "nope", code: "12ab", env: "moon" } },
      keys.alice,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    const paths = (bad.body.error.details as Array<{ path: string }>).map((d) => d.path).sort();
    expect(paths).toEqual(["values.code", "values.env", "values.ticket"]);
    const unknown = await call(
      "POST",
      `/api/runs/${runId}/inputs/otp`,
      { values: { ticket: "OPS-1", code: SECRET, env: "prod", x: 1 } },
      keys.alice,
    );
    expect(unknown.status).toBe(400);
    expect((await call("GET", `/api/runs/${runId}`)).body.status).toBe("awaiting_input");

    const good = await call(
      "POST",
      `/api/runs/${runId}/inputs/otp`,
      { values: { ticket: "OPS-42", code: SECRET, env: "prod" } },
      keys.alice,
    );
    expect(good.status).toBe(200);
    const twice = await call(
      "POST",
      `/api/runs/${runId}/inputs/otp`,
      { values: { ticket: "OPS-42", code: SECRET, env: "prod" } },
      keys.alice,
    );
    expect(twice.status).toBe(409);
    // Answering a node of another kind is a conflict that says, in plain English, what the node is.
    const wrongKind = await call("POST", `/api/runs/${runId}/approvals/otp`, { decision: "approve" }, keys.alice);
    expect(wrongKind.status).toBe(409);
    expect(wrongKind.body.error.message).toBe("node 'otp' is an input node, not an approval");
    const script = await call("POST", `/api/runs/${runId}/inputs/use-it`, { values: {} }, keys.alice);
    expect(script.status).toBe(409);
    expect(script.body.error.message).toBe("node 'use-it' is a script node, not an input");
    const run = await waitFor(runId, ["succeeded", "failed"]);
    expect(run.status).toBe("succeeded");
    // Later nodes got the secret: the script saw six characters, the shell the variable.
    expect(run.context.codeLength).toEqual({ type: "number", value: 6, writtenBy: "use-it" });
    expect(run.context["otp.ticket"]).toMatchObject({ type: "string", value: "OPS-42" });
    expect(run.context["otp.code"]).toBeUndefined();
    const logs = await call("GET", `/api/runs/${runId}/logs`);
    expect(logs.body).toContain("use-it | code is ********");
    expect(logs.body).toContain("shell | shell sees ********");

    // Everything the API said about this run.
    for (const path of ["", "/tasks", "/tasks/otp", "/tasks/use-it", "/tasks/shell", "/audit", "/logs"]) {
      await call("GET", `/api/runs/${runId}${path}`);
    }
    await call("GET", "/api/approvals?status=pending");
    for (const body of seen) expect(body.includes(SECRET)).toBe(false);

    // Every stored item of the table (DynamoDB API) and every object in the bucket (S3 files on disk).
    const items = await scanTable(stack.deps.store);
    for (const item of items) expect(JSON.stringify(item).includes(SECRET)).toBe(false);
    expect(items.length).toBeGreaterThan(10);
    const files = await listFiles(join(dataDir, "s3"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect((await readFile(f)).includes(Buffer.from(SECRET))).toBe(false);
    const audit = (await call("GET", `/api/runs/${runId}/audit`)).body.items as Array<{
      type: string;
      detail: { fields?: string[]; contextHash?: string };
    }>;
    const submitted = audit.find((e) => e.type === "input.submitted");
    expect(submitted?.detail.fields).toContain("code (secret)");
    // The person answered with nothing in the context yet: the hash is that of the empty context.
    expect(submitted?.detail).toMatchObject({ contextHash: hashJson({}) });
  });
});

describe("answers after the deadline", () => {
  // A clock the test moves past the deadline while the state machine's own (real-time) timeout is still far off:
  // the answer lands after the deadline but before the engine applied onTimeout, the race this guards.
  let skewMs = 0;
  let late: EmbeddedStack;
  let lateDir: string;
  const lateKeys: Record<string, string> = {};
  const on = (method: string, path: string, body?: unknown, key = lateKeys.operator) =>
    call(method, path, body, key, late);

  beforeAll(async () => {
    lateDir = await mkdtemp(join(tmpdir(), "stepwise-human-late-"));
    late = await startEmbedded({
      dataDir: lateDir,
      port: 0,
      apiKey: PLATFORM_KEY,
      examplesDir: null,
      clock: { nowMs: () => systemClock.nowMs() + skewMs },
    });
    for (const [name, role] of [
      ["operator", "operator"],
      ["alice", "approver"],
    ] as const) {
      lateKeys[name] = (await on("POST", "/api/keys", { name, role }, PLATFORM_KEY)).body.key;
    }
    for (const def of [
      approvalFlow("late-approval", { timeoutSeconds: 600, onTimeout: "approve" }),
      {
        name: "late-input",
        nodes: [
          {
            id: "otp",
            type: "input",
            timeoutSeconds: 600,
            fields: { ticket: { type: "string" }, code: { type: "string", secret: true } },
          },
          { id: "use-it", type: "command", needs: ["otp"], command: "echo used" },
        ],
      },
    ]) {
      expect([200, 201]).toContain((await on("PUT", `/api/workflows/${def.name}`, def, PLATFORM_KEY)).status);
    }
  });

  afterAll(async () => {
    await late?.stop();
  });

  /** Triggers a run and waits until its human step waits on a stored task token (the execution is parked). */
  async function parked(workflow: string, status: string): Promise<string> {
    const r = await on("POST", `/api/workflows/${workflow}/trigger`, { parameters: {} });
    expect(r.status).toBe(202);
    const runId = r.body.runId as string;
    await waitFor(runId, [status], 20_000, lateKeys.operator, late);
    const until = Date.now() + 20_000;
    while (!(await late.deps.store.getWaitToken("default", runId))) {
      if (Date.now() > until) throw new Error(`run ${runId} never parked on a task token`);
      await new Promise((res) => setTimeout(res, 50));
    }
    return runId;
  }

  it("refuses a decision after the deadline with 409; onTimeout is the only outcome", async () => {
    const runId = await parked("late-approval", "awaiting_approval");
    const inbox = await on("GET", "/api/approvals?status=pending", undefined, lateKeys.alice);
    const item = inbox.body.items.find((i: { runId: string }) => i.runId === runId);
    expect(item.timeoutAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    skewMs += 601_000; // ten minutes and a second later: past the deadline, the engine has not woken yet
    const r = await on(
      "POST",
      `/api/runs/${runId}/approvals/sign-off`,
      { decision: "reject", comment: "too late" },
      lateKeys.alice,
    );
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("conflict");
    expect(r.body.error.message).toContain(`the approval timed out at ${item.timeoutAt}`);

    // The late reject did not win: onTimeout (approve) did, and the run went on.
    const run = await waitFor(runId, ["succeeded", "failed"], 20_000, lateKeys.operator, late);
    expect(run.status).toBe("succeeded");
    const audit = (await on("GET", `/api/runs/${runId}/audit`)).body.items as Array<{
      type: string;
      to: string;
      detail: { nodeId?: string; onTimeout?: string };
    }>;
    expect(audit.filter((e) => e.type === "approval.decision")).toEqual([]);
    const timeouts = audit.filter((e) => e.type === "task.timeout");
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]).toMatchObject({ to: "succeeded", detail: { nodeId: "sign-off", onTimeout: "approve" } });
    const step = (await on("GET", `/api/runs/${runId}/tasks/sign-off`)).body;
    expect(step.decisions ?? []).toEqual([]);
  });

  it("refuses input after the deadline with 409; the run fails on the timeout", async () => {
    const runId = await parked("late-input", "awaiting_input");
    skewMs += 601_000;
    const r = await on(
      "POST",
      `/api/runs/${runId}/inputs/otp`,
      { values: { ticket: "OPS-7", code: "424242" } },
      lateKeys.alice,
    );
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("conflict");
    expect(r.body.error.message).toMatch(/^the input timed out at \d{4}-\d\d-\d\dT[\d:.]+Z/);

    const run = await waitFor(runId, ["succeeded", "failed"], 20_000, lateKeys.operator, late);
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ code: "human_timeout", nodeId: "otp" });
    expect(run.context["otp.ticket"]).toBeUndefined();
    const audit = (await on("GET", `/api/runs/${runId}/audit`)).body.items as Array<{ type: string }>;
    expect(audit.filter((e) => e.type === "input.submitted")).toEqual([]);
    expect(audit.filter((e) => e.type === "task.timeout")).toHaveLength(1);
  });
});

describe("restart", () => {
  it("keeps a human wait across a restart and resumes on a decision made after it", async () => {
    const runId = await trigger("one-approver");
    await waitFor(runId, ["awaiting_approval"]);
    await stack.stop();
    stack = await startEmbedded({ dataDir, port: 0, apiKey: PLATFORM_KEY, examplesDir: null });
    expect((await call("GET", `/api/runs/${runId}`)).body.status).toBe("awaiting_approval");
    const r = await call("POST", `/api/runs/${runId}/approvals/sign-off`, { decision: "approve" }, keys.alice);
    expect(r.status).toBe(200);
    expect((await waitFor(runId, ["succeeded", "failed"])).status).toBe("succeeded");
  });
});
