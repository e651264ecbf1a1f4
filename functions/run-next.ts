import { cloudServices } from "./cloud-services.ts";
import { makeRunNextHandler } from "./job-handlers.ts";

/** Lambda entry: the RunNext (.waitForTaskToken) task of the job-run state machine. */
export const handler = makeRunNextHandler(cloudServices("runNext"));
