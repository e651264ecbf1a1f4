import { cloudServices } from "./cloud-services.ts";
import { makeScheduleTriggerHandler } from "./trigger-handlers.ts";

/** Lambda entry: invoked by EventBridge Scheduler at each instant of a schedule ({orgId, name, scheduledFor}). */
const services = cloudServices("scheduleTrigger");
export const handler = makeScheduleTriggerHandler(services, services.telemetry);
