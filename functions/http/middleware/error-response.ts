import type middy from "@middy/core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { toErrorBody } from "../../../shared/errors.ts";
import { type ApiResult, respond } from "../respond.ts";

/** Logs a failure the service did not expect (a 5xx); the caller sees only the contract's error JSON. */
export type ErrorLog = (msg: string, err: unknown) => void;

/** The one error middleware: any thrown value becomes the contract's error JSON (internals never leak). */
export function errorResponse(log: ErrorLog): middy.MiddlewareObj<APIGatewayProxyEventV2, ApiResult> {
  return {
    onError: async (request) => {
      const mapped = toErrorBody(request.error);
      if (mapped.status >= 500)
        log(`${request.event.requestContext?.http?.method} ${request.event.rawPath}`, request.error);
      request.response = respond({ status: mapped.status, body: mapped.body });
    },
  };
}
