import middy from "@middy/core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Deps } from "../../shared/deps.ts";
import { type ErrorLog, errorResponse } from "./middleware/error-response.ts";
import { type ApiContext, parseRequest } from "./middleware/parse-request.ts";
import { type ApiResult, respond } from "./respond.ts";

/**
 * The HTTP API (API Gateway HTTP API v2 events) as a middy chain: the error middleware, then the parser/validation
 * middleware (route, caller, path, query and body), then the route's handler.
 */
export function makeApiHandler(deps: Deps, log: ErrorLog = defaultLog) {
  return middy<APIGatewayProxyEventV2, ApiResult, Error, ApiContext>()
    .use(errorResponse(log))
    .use(parseRequest(deps))
    .handler(async (_event, context) => {
      const { route, request } = context;
      // parseRequest sets both or throws; this guards a chain assembled without it.
      if (!route || !request) throw new Error("the request was not parsed");
      return respond(await route.handler(request));
    });
}

function defaultLog(msg: string, err: unknown): void {
  console.error(
    JSON.stringify({
      level: "error",
      msg,
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    }),
  );
}
