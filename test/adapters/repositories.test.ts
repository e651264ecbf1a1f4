// The repositories' optimistic-update contract, on the real table (dynalite, as embedded) and in memory (the twin unit
// tests may use): a conditional write that loses to another writer throws StaleStateError, and retryOnStale re-reads
// and tries again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryRepositories } from "../../shared/adapters/memory/memory-repositories.ts";
import { StaleStateError } from "../../shared/errors.ts";
import type { JobRunRecord } from "../../shared/jobs/job-records.ts";
import { retryOnStale, wroteUnlessStale } from "../../shared/kernel/optimistic-update.ts";
import type { Repositories } from "../../shared/ports/repositories.ts";
import type { DeliveryRecord } from "../../shared/triggers/trigger-records.ts";
import { startStack, type TestStack } from "../support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const at = "2026-01-01T00:00:00.000000Z";

describe("retryOnStale", () => {
  it("runs again on StaleStateError only, then lets `exhausted` decide", async () => {
    let calls = 0;
    expect(
      await retryOnStale(
        async (round) => {
          calls++;
          if (round < 2) throw new StaleStateError("lost");
          return "won";
        },
        { attempts: 5 },
      ),
    ).toBe("won");
    expect(calls).toBe(3);
    await expect(retryOnStale(async () => Promise.reject(new Error("other")), { attempts: 5 })).rejects.toThrow(
      "other",
    );
    await expect(
      retryOnStale(async () => Promise.reject(new StaleStateError("lost")), { attempts: 2 }),
    ).rejects.toBeInstanceOf(StaleStateError);
    expect(
      await retryOnStale(async () => Promise.reject(new StaleStateError("lost")), {
        attempts: 2,
        exhausted: () => "fallback",
      }),
    ).toBe("fallback");
  });
});

describe.each([
  ["on DynamoDB (dynalite)", () => stack.deps.repos],
  ["in memory", memoryRepositories],
])("the repositories %s", (_name, make: () => Repositories) => {
  let repos: Repositories;
  beforeAll(() => {
    repos = make();
  });

  it("job runs: a write built from an old revision is stale", async () => {
    const jr: JobRunRecord = {
      jobRunId: "jr_01JREPOSITORYTEST000000000",
      orgId: "default",
      job: "j",
      status: "pending",
      jobConfigJsonSnapshot: {
        name: "j",
        description: null,
        workflowExecutionOrder: [],
        parameters: {},
        workflows: [],
      },
      workflowRuns: [],
      trigger: { type: "manual", userId: "u" },
      createdBy: "u",
      createdAt: at,
      startedAt: null,
      updatedAt: at,
      completedAt: null,
      error: null,
      cancelRequest: null,
      rev: 0,
    };
    await repos.jobs.createJobRun(jr);
    await expect(repos.jobs.createJobRun(jr)).rejects.toBeInstanceOf(StaleStateError);
    const read = (await repos.jobs.getJobRun("default", jr.jobRunId)) as JobRunRecord;
    await repos.jobs.saveJobRun({ ...read, status: "in_progress" }, read.rev);
    await expect(repos.jobs.saveJobRun({ ...read, status: "cancelled" }, read.rev)).rejects.toBeInstanceOf(
      StaleStateError,
    );
    expect((await repos.jobs.getJobRun("default", jr.jobRunId))?.status).toBe("in_progress");
    // Listed by status through the index the adapter keeps.
    const inProgress = await repos.jobs.listJobRuns("default", { status: "in_progress" }, { limit: 10 });
    expect(inProgress.items.map((j) => j.jobRunId)).toContain(jr.jobRunId);
  });

  it("schedules: state by revision, and an instant claimed once", async () => {
    const state = {
      stateRev: 1,
      lastFiredFor: null,
      lastRunId: null,
      lastJobRunId: null,
      lastJobRunStatus: null,
      buffered: null,
      lastSkippedFor: null,
      lastError: null,
    };
    await repos.schedules.saveState("default", "nightly", state);
    await expect(repos.schedules.saveState("default", "nightly", state)).rejects.toBeInstanceOf(StaleStateError);
    await repos.schedules.saveState("default", "nightly", { ...state, stateRev: 2, buffered: at });
    expect((await repos.schedules.getState("default", "nightly"))?.buffered).toBe(at);
    const claim = { scheduledFor: at, claimedAt: at, expiresAt: 2_000_000_000 };
    expect(await repos.schedules.claimFiring("default", "nightly", claim)).toBe(true);
    expect(await repos.schedules.claimFiring("default", "nightly", claim)).toBe(false);
  });

  it("deliveries: written once, attempts counted once, listed for the sweep until sent", async () => {
    const d: DeliveryRecord = {
      deliveryId: "dlv_01JREPOSITORYTEST000000000",
      orgId: "default",
      subscription: "ops",
      eventId: "evt_1",
      type: "run.failed",
      body: "{}",
      status: "pending",
      attempts: 0,
      responseStatus: null,
      durationMs: null,
      lastError: null,
      attemptLog: [],
      nextAttemptAt: at,
      createdAt: at,
      updatedAt: at,
      completedAt: null,
      redeliveryOf: null,
    };
    const unsent = async () => (await repos.deliveries.listUnsent({ limit: 100 })).items.map((x) => x.deliveryId);
    expect(await wroteUnlessStale(() => repos.deliveries.save(d, { unsent: true, expect: { absent: true } }))).toBe(
      true,
    );
    expect(await wroteUnlessStale(() => repos.deliveries.save(d, { unsent: true, expect: { absent: true } }))).toBe(
      false,
    );
    expect(await unsent()).toContain(d.deliveryId);
    const next = { ...d, attempts: 1, status: "succeeded" as const };
    await repos.deliveries.save(next, { unsent: false, expect: { attempts: 0 } });
    await expect(repos.deliveries.save(next, { unsent: false, expect: { attempts: 0 } })).rejects.toBeInstanceOf(
      StaleStateError,
    );
    expect(await unsent()).not.toContain(d.deliveryId);
  });

  it("concurrency slots: written by revision", async () => {
    expect(await repos.concurrency.slots("default", "wf")).toEqual({ holders: [], ver: 0 });
    await repos.concurrency.saveSlots("default", "wf", ["run_a"], 0);
    await expect(repos.concurrency.saveSlots("default", "wf", ["run_b"], 0)).rejects.toBeInstanceOf(StaleStateError);
    expect(await repos.concurrency.slots("default", "wf")).toEqual({ holders: ["run_a"], ver: 1 });
  });

  it("workflows: concurrent new definitions get distinct versions; the same one is not stored twice", async () => {
    const def = (n: number) => ({
      name: "repo-wf",
      nodes: [{ id: "a", type: "command" as const, command: `echo ${n}` }],
    });
    const puts = await Promise.all(
      [1, 2, 3].map((n) => repos.workflows.putVersion("default", def(n), `sha256:${String(n).repeat(64)}`, at, "u")),
    );
    expect(puts.map((p) => p.version.version).sort()).toEqual([1, 2, 3]);
    const again = await repos.workflows.putVersion(
      "default",
      def(3),
      (await repos.workflows.get("default", "repo-wf"))?.definitionHash as string,
      at,
      "u",
    );
    expect(again.created).toBe(false);
    expect((await repos.workflows.getByHash("default", `sha256:${"2".repeat(64)}`))?.version).toBeGreaterThan(0);
  });

  it("idempotency claims: one holder; given back only by it", async () => {
    const now = Date.now();
    expect(await repos.idempotency.claim("default", "s", "k", "run_1", now)).toBeNull();
    expect(await repos.idempotency.claim("default", "s", "k", "run_2", now)).toBe("run_1");
    await repos.idempotency.release("default", "s", "k", "run_2");
    expect(await repos.idempotency.claim("default", "s", "k", "run_3", now)).toBe("run_1");
    await repos.idempotency.release("default", "s", "k", "run_1");
    expect(await repos.idempotency.claim("default", "s", "k", "run_3", now)).toBeNull();
  });
});
