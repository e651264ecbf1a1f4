import { cloudServices } from "./cloud-services.ts";
import { makeAdvanceHandler } from "./engine-handlers.ts";

/** Lambda entry: the Advance task of the run state machine. */
export const handler = makeAdvanceHandler(cloudServices("advanceRun"));
