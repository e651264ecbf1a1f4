import { cloudServices } from "./cloud-services.ts";
import { makeAdvanceHandler } from "./engine-handlers.ts";

/** Lambda entry: the Advance task of the run state machine. */
const services = cloudServices("advanceRun");
export const handler = makeAdvanceHandler(services, services.telemetry);
