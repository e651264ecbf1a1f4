import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import type { Deps } from "../../shared/deps.ts";
import type { Principal } from "../../shared/domain/records.ts";
import {
  NotFoundError,
  PayloadTooLargeError,
  toErrorBody,
  UnsupportedMediaTypeError,
  ValidationError,
} from "../../shared/errors.ts";
import { authenticate, authorize } from "../../shared/use-cases/auth.ts";
import { matchRoute, specOf } from "./match-route.ts";
import type { ApiRequest, ApiResponse, RouteHandler } from "./request.ts";
import type { RouteKey } from "./route-specs.ts";
import { coreRoutes } from "./routes/core-routes.ts";
import { extraRoutes } from "./routes/index.ts";

const MAX_BODY_BYTES = 1024 * 1024;
const ROUTES: Partial<Record<RouteKey, RouteHandler>> = { ...coreRoutes, ...extraRoutes };

type Result = Exclude<APIGatewayProxyResultV2, string>;

function respond(res: ApiResponse): Result {
  const headers: Record<string, string> = { "cache-control": "no-store", ...res.headers };
  if (res.raw) {
    const isText = typeof res.raw.data === "string";
    headers["content-type"] = res.raw.contentType;
    return {
      statusCode: res.status,
      headers,
      body: isText ? (res.raw.data as string) : (res.raw.data as Buffer).toString("base64"),
      isBase64Encoded: !isText,
    };
  }
  if (res.body === undefined) return { statusCode: res.status, headers };
  headers["content-type"] = "application/json; charset=utf-8";
  return { statusCode: res.status, headers, body: JSON.stringify(res.body) };
}

function lowerHeaders(h: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

function parseBody(event: APIGatewayProxyEventV2, headers: Record<string, string>): { raw: Buffer; json: unknown } {
  const raw = event.body ? Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8") : Buffer.alloc(0);
  if (raw.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(`the body is larger than ${MAX_BODY_BYTES} bytes`);
  if (raw.length === 0) return { raw, json: undefined };
  const type = headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) throw new UnsupportedMediaTypeError("the body must be application/json");
  try {
    return { raw, json: JSON.parse(raw.toString("utf8")) };
  } catch {
    throw new ValidationError("the body is not valid JSON");
  }
}

/** The HTTP API (API Gateway HTTP API v2 events): authenticates, authorizes, parses, and calls the route's use case. */
export function makeApiHandler(deps: Deps, log: (msg: string, err: unknown) => void = defaultLog) {
  return middy<APIGatewayProxyEventV2, Result>()
    .use({
      onError: async (request) => {
        const mapped = toErrorBody(request.error);
        if (mapped.status >= 500)
          log(`${request.event.requestContext?.http?.method} ${request.event.rawPath}`, request.error);
        request.response = respond({ status: mapped.status, body: mapped.body });
      },
    })
    .handler(async (event) => {
      const method = event.requestContext.http.method.toUpperCase();
      let key = event.routeKey as RouteKey | "$default";
      let pathParameters = event.pathParameters ?? {};
      if (!key || key === "$default" || !specOf(key)) {
        const m = matchRoute(method, event.rawPath);
        if (!m.key)
          throw new NotFoundError(
            m.allowed.length ? `method ${method} is not allowed here` : `no route ${method} ${event.rawPath}`,
          );
        key = m.key;
        pathParameters = m.pathParameters;
      }
      const spec = specOf(key);
      const handler = ROUTES[key as RouteKey];
      if (!spec || !handler) throw new NotFoundError(`no route ${method} ${event.rawPath}`);
      const headers = lowerHeaders(event.headers);
      let principal: Principal = { orgId: "", keyId: "", role: "viewer", userId: "anonymous", platform: false };
      if (spec.access !== "public" && spec.access !== "signed") {
        principal = await authenticate(deps, headers.authorization);
        authorize(principal, spec.access);
      }
      const body = parseBody(event, headers);
      const query: Record<string, string> = {};
      for (const [k, v] of Object.entries(event.queryStringParameters ?? {}))
        if (v !== undefined && v !== null) query[k] = String(v);
      const req: ApiRequest = {
        deps,
        principal,
        path: pathParameters as Record<string, string>,
        query,
        headers,
        body: body.json,
        rawBody: body.raw,
        event,
      };
      return respond(await handler(req));
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
