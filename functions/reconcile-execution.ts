import { cloudDeps } from "./cloud-deps.ts";
import { makeReconcileHandler } from "./engine-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: EventBridge rule on executions that ended FAILED, TIMED_OUT or ABORTED. */
export const handler = makeReconcileHandler(cloudDeps());
