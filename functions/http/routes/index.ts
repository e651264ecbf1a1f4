import { openApiDocument } from "../openapi-document.ts";
import { type AnyRoute, defineRoute, ok } from "../route.ts";
import { accessRoutes } from "./access-routes.ts";
import { evidenceRoutes } from "./evidence-routes.ts";
import { exportRoutes } from "./export-routes.ts";
import { humanStepRoutes } from "./human-steps-routes.ts";
import { jobRoutes } from "./job-routes.ts";
import { runRoutes } from "./run-routes.ts";
import { triggerRoutes } from "./trigger-routes.ts";
import { webhookRoutes } from "./webhook-routes.ts";
import { workflowRoutes } from "./workflow-routes.ts";

let document: Record<string, unknown> | undefined;

/** The document route: it walks the list it belongs to, so it is defined here, after the others. */
const documentRoute = defineRoute({
  method: "GET",
  path: "/api/openapi.json",
  access: "public",
  summary: "This OpenAPI document",
  responses: {
    200: {
      description:
        "The OpenAPI 3.1 document of every route, generated from the same definitions the service validates with",
      content: { "application/json": { schema: { type: "object" } } },
    },
  },
  handler: async () => {
    document ??= openApiDocument(ROUTES);
    return ok(document);
  },
});

/** Every route of the HTTP API, each defined once. */
export const ROUTES = [
  ...accessRoutes,
  documentRoute,
  ...workflowRoutes,
  ...webhookRoutes,
  ...runRoutes,
  ...evidenceRoutes,
  ...exportRoutes,
  ...humanStepRoutes,
  ...jobRoutes,
  ...triggerRoutes,
] as const satisfies readonly AnyRoute[];

type Route = (typeof ROUTES)[number];
/** "METHOD path" of every route. */
export type RouteKey = Route extends infer R
  ? R extends { method: infer M extends string; path: infer P extends string }
    ? `${M} ${P}`
    : never
  : never;

/** A route by its key. */
export const routeByKey = (key: RouteKey): AnyRoute | undefined => ROUTES.find((r) => `${r.method} ${r.path}` === key);
