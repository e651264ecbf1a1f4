import type middy from "@middy/core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Deps } from "../../shared/deps.ts";
import { type HandlerTelemetry, noTelemetry } from "../telemetry.ts";
import { type ErrorLog, errorResponse } from "./middleware/error-response.ts";
import { type ApiContext, parseRequest } from "./middleware/parse-request.ts";
import { type ApiResult, respond } from "./respond.ts";

/**
 * The HTTP API (API Gateway HTTP API v2 events) as a middy chain: the runtime's telemetry, the error middleware,
 * then the parser/validation middleware (route, caller, path, query and body), then the route's handler.
 */
export function makeApiHandler(deps: Deps, log: ErrorLog = logTo(deps), telemetry: HandlerTelemetry = noTelemetry) {
  return telemetry
    .chain<APIGatewayProxyEventV2, ApiResult, ApiContext>(() => ({}))
    .use(errorResponse(log))
    .use(parseRequest(deps))
    .use(tagRequest(telemetry))
    .handler(async (_event, context) => {
      const { route, request } = context;
      // parseRequest sets both or throws; this guards a chain assembled without it.
      if (!route || !request) throw new Error("the request was not parsed");
      return respond(await route.handler(request));
    });
}

/**
 * Once the caller is known, the request's logs and metrics carry its org and the run its path names; a trigger's
 * answer (202 with the new run's id) tags its run too, so the run's cost in the metrics includes its trigger.
 */
function tagRequest(
  telemetry: HandlerTelemetry,
): middy.MiddlewareObj<APIGatewayProxyEventV2, ApiResult, Error, ApiContext> {
  return {
    before: ({ context }) => {
      const req = context.request;
      if (!req) return;
      const params = req.params as Record<string, string | undefined>;
      telemetry.tag({ orgId: req.principal.orgId || undefined, runId: params.runId });
    },
    after: ({ context, response }) => {
      if (context.request?.params && "runId" in context.request.params) return;
      if (response?.statusCode !== 202 || typeof response.body !== "string" || response.isBase64Encoded) return;
      try {
        const { runId } = JSON.parse(response.body) as { runId?: unknown };
        if (typeof runId === "string") telemetry.tag({ runId });
      } catch {
        // Not JSON: nothing to tag.
      }
    },
  };
}

/** Unexpected failures (the 5xx) go to the runtime's logger, with the stack; the caller sees only the error JSON. */
function logTo(deps: Deps): ErrorLog {
  return (msg, err) =>
    deps.logger.error(msg, {
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    });
}
