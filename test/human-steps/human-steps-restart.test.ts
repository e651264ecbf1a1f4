// A human wait survives a crash: the real server (`npm start`) is SIGKILLed while a run waits for its second
// approver, started again on the same data dir, and a decision made after the restart resumes the run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectIntactChain } from "../support/audit-chain.ts";
import { pollUntil } from "../support/poll.ts";
import { makeServerDirs, type ServerDirs, type ServerProcess, serverApi } from "../support/server-process.ts";
import type { Json } from "../support/stack.ts";

const KEY = "human-restart-platform-key-0123456789";

let dirs: ServerDirs;
let server: ServerProcess | null = null;

const startServer = () => dirs.start({ apiKey: KEY });

/** One request to whichever server runs now; anything but 2xx fails the test with the server's answer. */
async function api(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<Json> {
  if (!server) throw new Error("no server");
  return serverApi(server.url, init.key ?? KEY, path, init);
}

const runIn = (runId: string, statuses: string[]) =>
  pollUntil(`run ${runId} to be ${statuses.join("|")}`, async () => {
    const run = await api(`/api/runs/${runId}`);
    return statuses.includes(run.status) ? run : null;
  });

beforeAll(async () => {
  dirs = await makeServerDirs("stepwise-human-restart");
});

afterAll(async () => {
  await server?.stop("SIGTERM");
  await dirs?.remove();
});

describe("a human wait across a crash of the server", () => {
  it("keeps the wait and the first decision through SIGKILL; the second approver's decision resumes the run", async () => {
    server = await startServer();
    const key = async (name: string, role: string) =>
      (await api("/api/keys", { method: "POST", body: { name, role } })).key as string;
    const operator = await key("operator", "operator");
    const alice = await key("alice", "approver");
    const bob = await key("bob", "approver");
    await api("/api/workflows/two-signatures", {
      method: "PUT",
      body: {
        name: "two-signatures",
        nodes: [
          { id: "prepare", type: "command", command: "echo prepared" },
          { id: "sign-off", type: "approval", needs: ["prepare"], approvers: { count: 2 } },
          { id: "ship", type: "command", needs: ["sign-off"], command: "echo shipped" },
        ],
      },
    });
    const { runId } = await api("/api/workflows/two-signatures/trigger", {
      method: "POST",
      body: { parameters: {} },
      key: operator,
    });
    await runIn(runId, ["awaiting_approval"]);
    const first = await api(`/api/runs/${runId}/approvals/sign-off`, {
      method: "POST",
      body: { decision: "approve", comment: "first signature" },
      key: alice,
    });
    expect(first).toMatchObject({ status: "awaiting_approval", approvals: { required: 2, received: 1 } });

    await server.stop("SIGKILL");
    server = await startServer();
    expect(server.output()).toContain("resumed 1 run(s)");

    // Still waiting, with Alice's signature kept, and listed in the inbox.
    expect((await api(`/api/runs/${runId}`)).status).toBe("awaiting_approval");
    const inbox = (await api("/api/approvals?status=pending", { key: bob })).items as Json[];
    expect(inbox.find((i) => i.runId === runId)).toMatchObject({
      nodeId: "sign-off",
      approvals: { required: 2, received: 1 },
    });
    // Alice cannot sign twice, even after the restart.
    const res = await fetch(`${server.url}/api/runs/${runId}/approvals/sign-off`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: JSON.stringify({ decision: "approve" }),
    });
    expect(res.status).toBe(409);

    const second = await api(`/api/runs/${runId}/approvals/sign-off`, {
      method: "POST",
      body: { decision: "approve", comment: "second signature" },
      key: bob,
    });
    expect(second).toMatchObject({ status: "succeeded", approvals: { required: 2, received: 2 } });
    const run = await runIn(runId, ["succeeded", "failed", "cancelled"]);
    expect(run.status).toBe("succeeded");

    const tasks = (await api(`/api/runs/${runId}/tasks`)).items as Json[];
    for (const t of tasks) expect(t.status, t.nodeId).toBe("succeeded");
    const signOff = tasks.find((t) => t.nodeId === "sign-off");
    expect(signOff.decisions.map((d: Json) => [d.by, d.comment])).toEqual([
      ["alice", "first signature"],
      ["bob", "second signature"],
    ]);
    const logs = (await api(`/api/runs/${runId}/logs`)) as string;
    expect(logs.split("\n").filter((l) => l.endsWith(" shipped"))).toHaveLength(1);

    const audit = (await api(`/api/runs/${runId}/audit`)).items as Json[];
    expectIntactChain(audit);
    expect(audit.filter((e) => e.type === "approval.decision").map((e) => [e.actor, e.to])).toEqual([
      ["alice", "awaiting_approval"],
      ["bob", "succeeded"],
    ]);
    expect(audit.filter((e) => e.type === "run.transition" && e.to === "succeeded")).toHaveLength(1);
  });
});
