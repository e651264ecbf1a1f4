import type { Access, Method } from "./route.ts";
import { ROUTES } from "./routes/index.ts";

export type { RouteKey } from "./routes/index.ts";

/** A route's method, path and access, as API Gateway and the CDK stack need them. */
export interface RouteSpec {
  method: Method;
  path: string;
  access: Access;
}

/** Every route of the API, derived from the route definitions; the CDK stack creates one HTTP API route for each. */
export const ROUTE_SPECS: readonly RouteSpec[] = ROUTES.map(({ method, path, access }) => ({ method, path, access }));
