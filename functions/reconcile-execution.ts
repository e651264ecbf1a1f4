import { cloudServices } from "./cloud-services.ts";
import { makeReconcileHandler } from "./engine-handlers.ts";

/** Lambda entry: EventBridge rule on executions that ended FAILED, TIMED_OUT or ABORTED. */
export const handler = makeReconcileHandler(cloudServices("reconcileExecution"));
