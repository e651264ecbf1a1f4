import { z } from "zod";
import { ValidationError } from "../shared/errors.ts";
import type { Services } from "../shared/services.ts";
import type { AdvanceOutput } from "../shared/state-machine/run-state-machine.ts";
import { type HandlerTelemetry, keysOf, noTelemetry } from "./telemetry.ts";

const Ids = z.object({ runId: z.string().regex(/^run_/), orgId: z.string().min(1) });
/** Advance's payload: the ids, and the execution it runs in ($$.Execution), for continue-as-new. */
const AdvancePayload = Ids.extend({
  execution: z.object({ name: z.string().min(1), startTime: z.string().min(1) }).optional(),
});
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

/**
 * The run machine's transitions an Advance result leads to: Advance itself, Route, and the state Route picks (Wait,
 * AwaitHuman, RunFailed or Done), except a next Advance, which counts itself.
 */
export const transitionsAfter = (out: AdvanceOutput): number => (out.next === "advance" ? 2 : 3);

/** Advance: runs the DAG as far as it can and tells the state machine what comes next. */
export const makeAdvanceHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, AdvanceOutput>().handler(async (payload) => {
    services.deps.meter.handlerCalls++;
    const { execution, ...ids } = parsePayload(AdvancePayload, payload);
    const out = await services.runs.continueIfDue(await services.runs.advance(ids), execution);
    telemetry.transitions(transitionsAfter(out));
    return out;
  });

/** AwaitHuman: the waitForTaskToken task of a human wait. */
export const makeAwaitHumanHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, { stored: true }>().handler(async (payload) => {
    services.deps.meter.handlerCalls++;
    await services.runs.awaitHuman(parsePayload(AwaitPayload, payload));
    return { stored: true };
  });

/** RecordFailure: the Catch of every task state. */
export const makeRecordFailureHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, { runId: string; orgId: string }>().handler(async (payload) => {
    services.deps.meter.handlerCalls++;
    const out = await services.runs.recordFailure(parsePayload(FailurePayload, payload));
    // RecordFailure, then RunFailed.
    telemetry.transitions(2);
    return out;
  });

/** Reconcile: EventBridge "Step Functions Execution Status Change" for executions that ended abnormally. */
export const makeReconcileHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, { changed: boolean }>().handler(async (event) => {
    services.deps.meter.handlerCalls++;
    const e = parsePayload(ExecutionEvent, event);
    const input = Ids.safeParse(JSON.parse(e.detail.input ?? "{}"));
    if (!input.success) return { changed: false };
    telemetry.tag(keysOf(input.data));
    return services.runs.reconcile({ ...input.data, executionStatus: e.detail.status });
  });
