import { cloudServices } from "./cloud-services.ts";
import { makeRecordJobFailureHandler } from "./job-handlers.ts";

/** Lambda entry: the RecordFailure task (the Catch) of the job-run state machine. */
const services = cloudServices("recordJobFailure");
export const handler = makeRecordJobFailureHandler(services, services.telemetry);
