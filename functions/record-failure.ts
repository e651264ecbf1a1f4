import { cloudDeps } from "./cloud-deps.ts";
import { makeRecordFailureHandler } from "./engine-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: the RecordFailure task (the state machine's Catch). */
export const handler = makeRecordFailureHandler(cloudDeps());
