import { cloudDeps } from "./cloud-deps.ts";
import { makeAwaitHumanHandler } from "./engine-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: the AwaitHuman (.waitForTaskToken) task of the run state machine. */
export const handler = makeAwaitHumanHandler(cloudDeps());
