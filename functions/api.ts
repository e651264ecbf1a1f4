import { cloudServices } from "./cloud-services.ts";
import { makeApiHandler } from "./http/api-handler.ts";

/** Lambda entry: every HTTP API route (API Gateway HTTP API v2). */
const services = cloudServices("api");
export const handler = makeApiHandler(services.deps, undefined, services.telemetry);
