import { cloudServices } from "./cloud-services.ts";
import { makeApiHandler } from "./http/api-handler.ts";

/** Lambda entry: every HTTP API route (API Gateway HTTP API v2). */
export const handler = makeApiHandler(cloudServices("api").deps);
