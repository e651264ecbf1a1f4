// The parser/validation middleware: finds the route, authenticates and authorizes the caller, and parses the path
// parameters, query and body with the route's zod schemas, so a handler only ever sees validated input.

import type middy from "@middy/core";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { z } from "zod";
import { authenticate, authorize } from "../../../shared/access/auth.ts";
import type { Deps } from "../../../shared/deps.ts";
import type { Principal } from "../../../shared/domain/records.ts";
import { zodDetails } from "../../../shared/domain/workflow.ts";
import {
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "../../../shared/errors.ts";
import type { PageRequest } from "../../../shared/ports/run-store.ts";
import { matchRoute, routeOfKey } from "../match-route.ts";
import { pathParamsSchema } from "../path-params.ts";
import type { ApiResult } from "../respond.ts";
import type { AnyRoute, RouteRequest } from "../route.ts";
import { findLoneSurrogate } from "../unicode.ts";

const MAX_BODY_BYTES = 1024 * 1024;

/** The Lambda context with the request this middleware parsed for the route's handler. */
export interface ApiContext extends Context {
  route?: AnyRoute;
  request?: RouteRequest<string, unknown, unknown>;
}

/** Validates a value against a schema, as a 400 naming each bad field and what held it (body, query, path). */
function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const details = zodDetails(res.error);
  const message = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; ");
  throw new ValidationError(`invalid ${what}: ${message}`, details);
}

const LimitSchema = z.coerce
  .number({ error: "limit must be an integer from 1 to 100" })
  .int("limit must be an integer from 1 to 100")
  .min(1, "limit must be an integer from 1 to 100")
  .max(100, "limit must be an integer from 1 to 100");

/** ?limit= (default 20, max 100) and ?cursor= (opaque: the store verifies it). */
function pageOf(query: Record<string, string>): PageRequest {
  let limit = 20;
  if (query.limit !== undefined) {
    const res = LimitSchema.safeParse(query.limit === "" ? Number.NaN : query.limit);
    if (!res.success)
      throw new ValidationError("limit must be an integer from 1 to 100", [{ path: "limit", message: "1 to 100" }]);
    limit = res.data;
  }
  return { limit, cursor: query.cursor || null };
}

function lowerHeaders(h: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

/** The raw body and its JSON (undefined when empty); refuses what cannot be read as JSON text. */
function parseBody(event: APIGatewayProxyEventV2, headers: Record<string, string>): { raw: Buffer; json: unknown } {
  const raw = event.body ? Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8") : Buffer.alloc(0);
  if (raw.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(`the body is larger than ${MAX_BODY_BYTES} bytes`);
  if (raw.length === 0) return { raw, json: undefined };
  const type = headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) throw new UnsupportedMediaTypeError("the body must be application/json");
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new ValidationError("the body is not valid JSON");
  }
  // A lone surrogate escape ("\ud800") is valid JSON but not Unicode: nothing downstream can hash or store it.
  const bad = findLoneSurrogate(json);
  if (bad)
    throw new ValidationError(`the body holds a lone UTF-16 surrogate at ${bad}`, [
      { path: bad, message: "not well-formed Unicode (a lone surrogate)" },
    ]);
  return { raw, json };
}

/** The route and its raw path parameters: from API Gateway's route key, or matched here (the embedded server). */
function findRoute(event: APIGatewayProxyEventV2): { route: AnyRoute; params: Record<string, string | undefined> } {
  const method = event.requestContext.http.method.toUpperCase();
  const byKey = event.routeKey && event.routeKey !== "$default" ? routeOfKey(event.routeKey) : undefined;
  if (byKey) return { route: byKey, params: event.pathParameters ?? {} };
  const m = matchRoute(method, event.rawPath);
  if (!m.key)
    throw new NotFoundError(
      m.allowed.length
        ? `method ${method} is not allowed on ${event.rawPath} (allowed: ${[...new Set(m.allowed)].join(", ")})`
        : `no route ${method} ${event.rawPath}`,
    );
  const bad = m.undecodable[0];
  if (bad)
    throw new ValidationError(`path parameter ${bad} is not a valid %-encoded string`, [
      { path: bad, message: "malformed %-escape" },
    ]);
  return { route: m.route, params: m.pathParameters };
}

/** The parser/validation middleware of the HTTP API. */
export function parseRequest(deps: Deps): middy.MiddlewareObj<APIGatewayProxyEventV2, ApiResult, Error, ApiContext> {
  return {
    before: async (request) => {
      const { event } = request;
      const { route, params: rawParams } = findRoute(event);
      const params = parseWith(pathParamsSchema(route.path), rawParams, "path parameter");
      const headers = lowerHeaders(event.headers);
      let principal: Principal = { orgId: "", keyId: "", role: "viewer", userId: "anonymous", platform: false };
      if (route.access !== "public" && route.access !== "signed") {
        principal = await authenticate(deps, headers.authorization);
        authorize(principal, route.access);
      }
      const body = parseBody(event, headers);
      const rawQuery: Record<string, string> = {};
      for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) rawQuery[k] = v;
      const page = pageOf(rawQuery);
      const { limit: _l, cursor: _c, ...filters } = rawQuery;
      const query = route.query ? parseWith(route.query, route.paged ? filters : rawQuery, "query") : rawQuery;
      const parsedBody = route.body ? parseWith(route.body, body.json ?? {}, "body") : body.json;
      request.context.route = route;
      request.context.request = {
        deps,
        principal,
        params,
        query,
        page,
        body: parsedBody,
        json: body.json,
        rawBody: body.raw,
        headers,
        event,
      };
    },
  };
}
