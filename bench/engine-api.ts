/** The benchmark's client of the embedded stack: the contract's routes over HTTP, one run triggered and awaited. */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { EmbeddedStack } from "../local/embedded.ts";
import { RUN_TIMEOUT_MS } from "./settings.ts";
import type { BenchCase } from "./workflows.ts";

const TERMINAL = new Set(["succeeded", "no_action", "failed", "cancelled"]);

export const RunView = z.object({
  runId: z.string(),
  status: z.string(),
  context: z.record(z.string(), z.object({ type: z.string(), value: z.unknown() })),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  error: z.unknown().nullable(),
  lane: z.enum(["standard", "express"]).default("standard"),
});
export type RunView = z.infer<typeof RunView>;
const Accepted = z.object({ runId: z.string().startsWith("run_") });
export const AuditTrail = z.object({ items: z.array(z.object({ seq: z.number() })) });
export const TaskList = z.object({
  items: z.array(z.object({ nodeId: z.string(), status: z.string(), durationMs: z.number().nullable() })),
});
/** A thin client of the contract's routes, with the platform key. */
export class Api {
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }
}

export interface EngineSample {
  /** Client-observed: before the trigger request until a poll saw the terminal status. */
  latencyMs: number;
  /** The trigger request alone (202 received). */
  triggerMs: number;
  run: RunView;
}

/** Triggers one run and polls it until terminal; a run that does not succeed (or hangs) is returned as a failure. */
export async function engineRun(
  api: Api,
  stack: EmbeddedStack,
  bc: BenchCase,
  pollMs: number,
): Promise<EngineSample | { failed: string }> {
  const t0 = performance.now();
  const { runId } = Accepted.parse(
    await api.call("POST", `/api/workflows/${bc.workflow.name}/trigger`, { parameters: {} }),
  );
  const triggerMs = performance.now() - t0;
  for (;;) {
    const run = RunView.parse(await api.call("GET", `/api/runs/${runId}`));
    if (TERMINAL.has(run.status)) {
      const latencyMs = performance.now() - t0;
      // The execution still passes Route and Done after the record is terminal: let it end before the next run.
      while (stack.orchestrator.runs.isRunning(runId)) await sleep(1);
      if (run.status !== "succeeded") {
        const tasks = TaskList.parse(await api.call("GET", `/api/runs/${runId}/tasks`));
        const why = tasks.items.filter((t) => t.status !== "succeeded").map((t) => `${t.nodeId} ${t.status}`);
        return { failed: `${runId} ended ${run.status}: ${JSON.stringify(run.error)} (${why.join(", ")})` };
      }
      if (bc.expectedStep !== null && run.context.step?.value !== bc.expectedStep)
        return { failed: `${runId}: context.step is ${JSON.stringify(run.context.step)}, not ${bc.expectedStep}` };
      return { latencyMs, triggerMs, run };
    }
    if (performance.now() - t0 > RUN_TIMEOUT_MS)
      return { failed: `${runId} still ${run.status} after ${RUN_TIMEOUT_MS / 1000} s` };
    await sleep(pollMs);
  }
}

/** Runs `total` jobs with `concurrency` workers; resolves with the wall time in ms. */
export async function batch(total: number, concurrency: number, job: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await job();
      }
    }),
  );
  return performance.now() - t0;
}

/** Waits until the local state machine has no execution left and its event logs are counted. */
export async function settle(stack: EmbeddedStack): Promise<void> {
  while (stack.orchestrator.runs.active > 0) await sleep(2);
  await sleep(20);
}
