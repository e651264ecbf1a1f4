import { cloudDeps } from "./cloud-deps.ts";
import { makeReconcileJobHandler } from "./job-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: EventBridge rule on job-run executions that ended FAILED, TIMED_OUT or ABORTED. */
export const handler = makeReconcileJobHandler(cloudDeps());
