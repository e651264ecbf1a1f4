import middy from "@middy/core";
import { z } from "zod";
import type { Deps } from "../shared/deps.ts";
import { advanceRun } from "../shared/engine/advance-run.ts";
import { ValidationError } from "../shared/errors.ts";
import type { AdvanceOutput } from "../shared/state-machine/run-state-machine.ts";
import { awaitHuman, reconcileExecution, recordFailure } from "../shared/use-cases/state-machine-tasks.ts";

const Ids = z.object({ runId: z.string().regex(/^run_/), orgId: z.string().min(1) });
const AwaitPayload = Ids.extend({ token: z.string().min(1), seq: z.number().int().min(0) });
const FailurePayload = Ids.extend({
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
const ExecutionEvent = z.object({
  detail: z.object({ status: z.string(), name: z.string().optional(), input: z.string().nullish() }),
});

/** Validates a state-machine task payload; a bad one is a ValidationError the state machine's Catch records. */
export function parsePayload<T extends z.ZodTypeAny>(schema: T, payload: unknown, what = "state machine"): z.infer<T> {
  const res = schema.safeParse(payload);
  if (!res.success) throw new ValidationError(`invalid ${what} payload: ${res.error.issues[0]?.message ?? "?"}`);
  return res.data;
}

/** Advance: runs the DAG as far as it can and tells the state machine what comes next. */
export const makeAdvanceHandler = (deps: Deps) =>
  middy<unknown, AdvanceOutput>().handler(async (payload) => {
    deps.meter.handlerCalls++;
    return advanceRun(deps, parsePayload(Ids, payload));
  });

/** AwaitHuman: the waitForTaskToken task of a human wait. */
export const makeAwaitHumanHandler = (deps: Deps) =>
  middy<unknown, { stored: true }>().handler(async (payload) => {
    deps.meter.handlerCalls++;
    await awaitHuman(deps, parsePayload(AwaitPayload, payload));
    return { stored: true };
  });

/** RecordFailure: the Catch of every task state. */
export const makeRecordFailureHandler = (deps: Deps) =>
  middy<unknown, { runId: string; orgId: string }>().handler(async (payload) => {
    deps.meter.handlerCalls++;
    return recordFailure(deps, parsePayload(FailurePayload, payload));
  });

/** Reconcile: EventBridge "Step Functions Execution Status Change" for executions that ended abnormally. */
export const makeReconcileHandler = (deps: Deps) =>
  middy<unknown, { changed: boolean }>().handler(async (event) => {
    deps.meter.handlerCalls++;
    const e = parsePayload(ExecutionEvent, event);
    const input = Ids.safeParse(JSON.parse(e.detail.input ?? "{}"));
    if (!input.success) return { changed: false };
    return reconcileExecution(deps, { ...input.data, executionStatus: e.detail.status });
  });
