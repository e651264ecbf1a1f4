import { cloudDeps } from "./cloud-deps.ts";
import { makeAdvanceHandler } from "./engine-handlers.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: the Advance task of the run state machine. */
export const handler = makeAdvanceHandler(cloudDeps());
