import { cloudServices } from "./cloud-services.ts";
import { makeAwaitHumanHandler } from "./engine-handlers.ts";

/** Lambda entry: the AwaitHuman (.waitForTaskToken) task of the run state machine. */
export const handler = makeAwaitHumanHandler(cloudServices("awaitHuman"));
