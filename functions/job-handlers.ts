import middy from "@middy/core";
import { z } from "zod";
import type { CloudConfig } from "../shared/config.ts";
import type { Deps } from "../shared/deps.ts";
import { reconcileJobRunExecution, recordJobRunFailure, runNextWorkflow } from "../shared/jobs/job-run-engine.ts";
import type { JobsArea } from "../shared/jobs/jobs-area.ts";
import { SfnJobRunOrchestrator } from "../shared/jobs/sfn-job-run-orchestrator.ts";
import { wireJobsArea } from "../shared/jobs/wire-jobs-area.ts";
import { parsePayload } from "./engine-handlers.ts";

const Ids = z.object({ jobRunId: z.string().regex(/^jr_/), orgId: z.string().min(1) });
const RunNextPayload = Ids.extend({ token: z.string().min(1) });
const FailurePayload = Ids.extend({
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
const ExecutionEvent = z.object({
  detail: z.object({ status: z.string(), name: z.string().optional(), input: z.string().nullish() }),
});

/** RunNext: the waitForTaskToken task that starts (or waits for) the job run's next workflow run. */
export const makeRunNextHandler = (deps: Deps) =>
  middy<unknown, { stored: true }>().handler(async (payload) => {
    deps.meter.handlerCalls++;
    await runNextWorkflow(deps, parsePayload(RunNextPayload, payload, "job state machine"));
    return { stored: true };
  });

/** RecordFailure: the Catch of RunNext; the job run ends failed with the reason. */
export const makeRecordJobFailureHandler = (deps: Deps) =>
  middy<unknown, { jobRunId: string; orgId: string }>().handler(async (payload) => {
    deps.meter.handlerCalls++;
    return recordJobRunFailure(deps, parsePayload(FailurePayload, payload, "job state machine"));
  });

/** Reconcile: EventBridge "Step Functions Execution Status Change" of the job machine's abnormal ends. */
export const makeReconcileJobHandler = (deps: Deps) =>
  middy<unknown, { changed: boolean }>().handler(async (event) => {
    deps.meter.handlerCalls++;
    const e = parsePayload(ExecutionEvent, event, "job state machine");
    let input: unknown;
    try {
      input = JSON.parse(e.detail.input ?? "{}");
    } catch {
      return { changed: false };
    }
    const ids = Ids.safeParse(input);
    if (!ids.success) return { changed: false };
    return reconcileJobRunExecution(deps, { ...ids.data, executionStatus: e.detail.status });
  });

/**
 * The jobs area in the cloud (a CloudAreaWiring for functions/cloud-deps.ts): job runs start as executions of
 * JOB_STATE_MACHINE_ARN. Wire it in every Lambda, not only the job machine's: the run listener it adds is what
 * completes a job run's wait when one of its workflow runs ends, wherever that run's status changes.
 */
export function wireJobsCloud(deps: Deps, config: CloudConfig): JobsArea {
  const arn = config.JOB_STATE_MACHINE_ARN;
  return wireJobsArea(
    deps,
    arn
      ? SfnJobRunOrchestrator.create(arn)
      : {
          startJobRun: async () => {
            throw new Error("JOB_STATE_MACHINE_ARN is not set in this function's environment");
          },
        },
  );
}
