import { cloudServices } from "./cloud-services.ts";
import { makeRecordFailureHandler } from "./engine-handlers.ts";

/** Lambda entry: the RecordFailure task (the state machine's Catch). */
const services = cloudServices("recordFailure");
export const handler = makeRecordFailureHandler(services, services.telemetry);
