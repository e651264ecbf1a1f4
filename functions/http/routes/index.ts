import type { RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";

/** Routes of the other areas (human steps, evidence, jobs, triggers), merged over the core routes. */
export const extraRoutes: Partial<Record<RouteKey, RouteHandler>> = {};
