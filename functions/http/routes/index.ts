import type { RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";
import { routes as evidence } from "./evidence-routes.ts";
import { routes as humanSteps } from "./human-steps-routes.ts";
import { routes as jobs } from "./jobs-routes.ts";
import { routes as settings } from "./settings-routes.ts";
import { routes as triggers } from "./triggers-routes.ts";

/** Routes of the other areas (human steps, evidence, jobs, triggers, settings), merged over the core routes. */
export const extraRoutes: Partial<Record<RouteKey, RouteHandler>> = {
  ...humanSteps,
  ...evidence,
  ...jobs,
  ...triggers,
  ...settings,
};
