import type { RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";

/** Routes of the human-steps area. */
export const routes: Partial<Record<RouteKey, RouteHandler>> = {};
