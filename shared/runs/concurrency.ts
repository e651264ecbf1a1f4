import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { isTerminalRun, type RunRecord, type RunStatus } from "../domain/records.ts";
import type { WorkflowDefinition } from "../domain/workflow.ts";
import { retryOnStale, wroteUnlessStale } from "../kernel/optimistic-update.ts";
import type { RunState } from "../ports/run-store.ts";

// A workflow's concurrency gate (deps.repos.concurrency), keyed by its name (all versions share the cap): the
// semaphore (the runIds holding a slot, written conditional on its revision) and the queue (one entry per waiting
// run, in runId order, whose ULID is the trigger order). A run is enqueued before anyone tries to admit it, and every
// admission attempt takes the queue from its head, so no run is skipped and none waits for nothing.

export const QUEUED_REASON = "concurrency_limit";
const ENGINE_ACTOR = "stepwise:engine";

/** The cap a definition sets, or null when its runs start at once. */
export const concurrencyLimit = (def: WorkflowDefinition): number | null => def.concurrency?.limit ?? null;

/** Starts a newly created run now, or queues it behind the workflow's concurrency limit. */
export async function startOrQueue(deps: Deps, state: RunState, def: WorkflowDefinition): Promise<void> {
  const { orgId, runId } = state.run;
  const limit = concurrencyLimit(def);
  const lane = state.run.lane ?? "standard";
  if (limit === null) {
    await deps.orchestrator.startRun(orgId, runId, lane);
    return;
  }
  const name = state.run.workflow.name;
  await deps.repos.concurrency.enqueue(orgId, name, { runId, lane });
  const admitted = await admitFromQueue(deps, orgId, name, limit);
  if (admitted.includes(runId)) return;
  // Still waiting: say why on the record (a no-op if a slot freed meanwhile and the run already moved on).
  await markQueued(deps, orgId, runId);
}

async function markQueued(deps: Deps, orgId: string, runId: string): Promise<void> {
  // Given up quietly after five stale tries: whoever moved the run meanwhile said more than "queued".
  await retryOnStale(
    async () => {
      const state = await deps.store.loadRun(orgId, runId);
      if (state?.run.status !== "queued" || state.run.queuedReason === QUEUED_REASON) return;
      // Admitted by another writer between our attempt and now: its start clears nothing we set, so leave it.
      if (!(await isQueued(deps, orgId, state.run.workflow.name, runId))) return;
      const at = nowIso(deps.clock);
      await deps.store.commit(
        state,
        {
          target: { kind: "run" },
          event: {
            type: "run.queued",
            from: "queued",
            to: "queued",
            actor: ENGINE_ACTOR,
            detail: { queuedReason: QUEUED_REASON },
          },
          next: { ...state.run, queuedReason: QUEUED_REASON, updatedAt: at },
        },
        at,
      );
    },
    { attempts: 5, exhausted: () => undefined },
  );
}

function isQueued(deps: Deps, orgId: string, workflow: string, runId: string): Promise<boolean> {
  return deps.repos.concurrency.isQueued(orgId, workflow, runId);
}

/** Admits queued runs from the head of the queue while slots are free; returns the runIds it started. */
export async function admitFromQueue(deps: Deps, orgId: string, workflow: string, limit: number): Promise<string[]> {
  const started: string[] = [];
  for (;;) {
    const [head] = await deps.repos.concurrency.queue(orgId, workflow, 1);
    if (!head) return started;
    const status = await deps.store.getRunStatus(orgId, head.runId);
    if (status !== "queued") {
      // Cancelled while queued (or gone): it leaves the queue without taking a slot.
      await deps.repos.concurrency.dequeue(orgId, workflow, head.runId);
      continue;
    }
    if (!(await acquire(deps, orgId, workflow, head.runId, limit))) return started;
    await deps.repos.concurrency.dequeue(orgId, workflow, head.runId);
    await deps.orchestrator.startRun(orgId, head.runId, head.lane ?? "standard");
    started.push(head.runId);
  }
}

/** Takes a slot for `runId` (idempotent); frees slots whose holder already ended before saying the cap is full. */
async function acquire(deps: Deps, orgId: string, workflow: string, runId: string, limit: number): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const cur = await deps.repos.concurrency.slots(orgId, workflow);
    if (cur.holders.includes(runId)) return true;
    let holders = cur.holders;
    if (holders.length >= limit) {
      // A terminal transition whose release never ran (the process died right after it) must not keep a slot.
      const live: string[] = [];
      for (const h of holders) {
        const s = await deps.store.getRunStatus(orgId, h);
        if (s && !isTerminalRun(s)) live.push(h);
      }
      holders = live;
      if (holders.length >= limit) {
        if (holders.length === cur.holders.length) return false;
        if (await writeSlots(deps, orgId, workflow, cur.ver, holders)) continue;
        continue;
      }
    }
    if (await writeSlots(deps, orgId, workflow, cur.ver, [...holders, runId])) return true;
  }
  return false;
}

/** Writes the holders, conditional on the revision read; false when another writer won. */
function writeSlots(deps: Deps, orgId: string, workflow: string, ver: number, holders: string[]): Promise<boolean> {
  return wroteUnlessStale(() => deps.repos.concurrency.saveSlots(orgId, workflow, holders, ver));
}

/** Frees the run's slot (idempotent) and admits whoever is next. */
export async function releaseSlot(deps: Deps, run: RunRecord, limit: number): Promise<void> {
  const { orgId, runId } = run;
  const name = run.workflow.name;
  await deps.repos.concurrency.dequeue(orgId, name, runId);
  await retryOnStale(
    async () => {
      const cur = await deps.repos.concurrency.slots(orgId, name);
      if (!cur.holders.includes(runId)) return;
      const rest = cur.holders.filter((h) => h !== runId);
      await deps.repos.concurrency.saveSlots(orgId, name, rest, cur.ver);
    },
    // A slot still held after 20 tries is freed by the next acquire that finds its holder ended.
    { attempts: 20, exhausted: () => undefined },
  );
  await admitFromQueue(deps, orgId, name, limit);
}

/** The run listener that frees a slot on every terminal transition, whoever records it (engine, cancel, reconcile). */
export function concurrencyListener(deps: Deps) {
  return async (run: RunRecord, _from: RunStatus | null): Promise<void> => {
    if (!isTerminalRun(run.status)) return;
    const wf = await deps.repos.workflows.getByHash(run.orgId, run.workflow.definitionHash);
    const limit = wf ? concurrencyLimit(wf.definition) : null;
    if (limit !== null) await releaseSlot(deps, run, limit);
  };
}

/** After a restart: runs waiting in a queue are not resumed by the engine; admit what the free slots allow. */
export async function resumeQueues(deps: Deps, runs: Array<{ orgId: string; runId: string }>): Promise<Set<string>> {
  const waiting = new Set<string>();
  const queues = new Map<string, { orgId: string; name: string; limit: number }>();
  for (const r of runs) {
    const state = await deps.store.loadRun(r.orgId, r.runId);
    if (state?.run.status !== "queued") continue;
    const name = state.run.workflow.name;
    if (!(await isQueued(deps, r.orgId, name, r.runId))) continue;
    waiting.add(r.runId);
    const wf = await deps.repos.workflows.getByHash(r.orgId, state.run.workflow.definitionHash);
    const limit = wf ? concurrencyLimit(wf.definition) : null;
    if (limit !== null) queues.set(`${r.orgId}/${name}`, { orgId: r.orgId, name, limit });
  }
  for (const q of queues.values()) await admitFromQueue(deps, q.orgId, q.name, q.limit);
  return waiting;
}

/** The queued runs of a workflow, oldest first (what the workflow page shows). */
export async function listQueue(deps: Deps, orgId: string, workflow: string) {
  return (await deps.repos.concurrency.queue(orgId, workflow, 100)).map((i) => i.runId);
}
