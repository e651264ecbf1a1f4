import { cloudServices } from "./cloud-services.ts";
import { makeReconcileJobHandler } from "./job-handlers.ts";

/** Lambda entry: EventBridge rule on job-run executions that ended FAILED, TIMED_OUT or ABORTED. */
const services = cloudServices("reconcileJob");
export const handler = makeReconcileJobHandler(services, services.telemetry);
