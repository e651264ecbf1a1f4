import { cloudDeps } from "./cloud-deps.ts";
import { makeApiHandler } from "./http/api-handler.ts";
import "./jobs-cloud.ts";
import "./triggers-cloud.ts";

/** Lambda entry: every HTTP API route (API Gateway HTTP API v2). */
export const handler = makeApiHandler(cloudDeps());
