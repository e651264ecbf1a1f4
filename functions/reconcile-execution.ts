import { cloudServices } from "./cloud-services.ts";
import { makeReconcileHandler } from "./engine-handlers.ts";

/** Lambda entry: EventBridge rule on executions that ended FAILED, TIMED_OUT or ABORTED. */
const services = cloudServices("reconcileExecution");
export const handler = makeReconcileHandler(services, services.telemetry);
