import { cloudServices } from "./cloud-services.ts";
import { makeRunNextHandler } from "./job-handlers.ts";

/** Lambda entry: the RunNext (.waitForTaskToken) task of the job-run state machine. */
const services = cloudServices("runNext");
export const handler = makeRunNextHandler(services, services.telemetry);
