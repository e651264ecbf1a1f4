import { cloudServices } from "./cloud-services.ts";
import { makeRecordFailureHandler } from "./engine-handlers.ts";

/** Lambda entry: the RecordFailure task (the state machine's Catch). */
export const handler = makeRecordFailureHandler(cloudServices("recordFailure"));
