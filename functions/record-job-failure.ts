import { cloudDeps } from "./cloud-deps.ts";
import { makeRecordJobFailureHandler } from "./job-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: the RecordFailure task (the Catch) of the job-run state machine. */
export const handler = makeRecordJobFailureHandler(cloudDeps());
