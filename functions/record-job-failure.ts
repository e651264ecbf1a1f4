import { cloudServices } from "./cloud-services.ts";
import { makeRecordJobFailureHandler } from "./job-handlers.ts";

/** Lambda entry: the RecordFailure task (the Catch) of the job-run state machine. */
export const handler = makeRecordJobFailureHandler(cloudServices("recordJobFailure"));
