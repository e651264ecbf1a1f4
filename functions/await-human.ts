import { cloudServices } from "./cloud-services.ts";
import { makeAwaitHumanHandler } from "./engine-handlers.ts";

/** Lambda entry: the AwaitHuman (.waitForTaskToken) task of the run state machine. */
const services = cloudServices("awaitHuman");
export const handler = makeAwaitHumanHandler(services, services.telemetry);
