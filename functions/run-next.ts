import { cloudDeps } from "./cloud-deps.ts";
import { makeRunNextHandler } from "./job-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: the RunNext (.waitForTaskToken) task of the job-run state machine. */
export const handler = makeRunNextHandler(cloudDeps());
