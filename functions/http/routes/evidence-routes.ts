import type { RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";

/** Routes of the evidence area. */
export const routes: Partial<Record<RouteKey, RouteHandler>> = {};
