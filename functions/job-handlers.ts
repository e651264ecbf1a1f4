import { z } from "zod";
import type { Services } from "../shared/services.ts";
import { parsePayload } from "./engine-handlers.ts";
import { type HandlerTelemetry, keysOf, noTelemetry } from "./telemetry.ts";

const Ids = z.object({ jobRunId: z.string().regex(/^jr_/), orgId: z.string().min(1) });
const RunNextPayload = Ids.extend({ token: z.string().min(1) });
const FailurePayload = Ids.extend({
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
const ExecutionEvent = z.object({
  detail: z.object({ status: z.string(), name: z.string().optional(), input: z.string().nullish() }),
});

/** RunNext: the waitForTaskToken task that starts (or waits for) the job run's next workflow run. */
export const makeRunNextHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, { stored: true }>().handler(async (payload) => {
    services.deps.meter.handlerCalls++;
    await services.jobRuns.runNext(parsePayload(RunNextPayload, payload, "job state machine"));
    return { stored: true };
  });

/** RecordFailure: the Catch of RunNext; the job run ends failed with the reason. */
export const makeRecordJobFailureHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, { jobRunId: string; orgId: string }>().handler(async (payload) => {
    services.deps.meter.handlerCalls++;
    return services.jobRuns.recordFailure(parsePayload(FailurePayload, payload, "job state machine"));
  });

/** Reconcile: EventBridge "Step Functions Execution Status Change" of the job machine's abnormal ends. */
export const makeReconcileJobHandler = (services: Services, telemetry: HandlerTelemetry = noTelemetry) =>
  telemetry.chain<unknown, { changed: boolean }>().handler(async (event) => {
    services.deps.meter.handlerCalls++;
    const e = parsePayload(ExecutionEvent, event, "job state machine");
    let input: unknown;
    try {
      input = JSON.parse(e.detail.input ?? "{}");
    } catch {
      return { changed: false };
    }
    const ids = Ids.safeParse(input);
    if (!ids.success) return { changed: false };
    telemetry.tag(keysOf(ids.data));
    return services.jobRuns.reconcile({ ...ids.data, executionStatus: e.detail.status });
  });
