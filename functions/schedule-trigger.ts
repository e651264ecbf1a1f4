import { cloudDeps } from "./cloud-deps.ts";
import { makeScheduleTriggerHandler } from "./trigger-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: invoked by EventBridge Scheduler at each instant of a schedule ({orgId, name, scheduledFor}). */
export const handler = makeScheduleTriggerHandler(cloudDeps());
