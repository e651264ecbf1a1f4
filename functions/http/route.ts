// One route, defined once: method, path, access, parameters, query, body, responses, errors and handler. The router,
// the CDK's route list, docs/openapi.json and the clients' types are all derived from these definitions.

import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { z } from "zod";
import type { Deps } from "../../shared/deps.ts";
import type { Principal, Role } from "../../shared/domain/records.ts";
import type { PageRequest } from "../../shared/ports/run-store.ts";

export type Method = "GET" | "POST" | "PUT" | "DELETE";
/** What a route needs: "public" (no key), "platform" (the bootstrap key), "signed" (a webhook signature), or the weakest role allowed. */
export type Access = "public" | "platform" | "signed" | Role;
export type SuccessStatus = 200 | 201 | 202 | 204 | 302;
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415;
/** Request headers the document describes (components/parameters). */
export type DocumentedHeader =
  | "IdempotencyKey"
  | "WebhookIdHeader"
  | "WebhookTimestamp"
  | "WebhookSignature"
  | "HubSignature256"
  | "GithubDelivery";

/** The names of a path's parameters: "/a/{x}/b/{y+}" → "x" | "y". */
export type PathParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}`
  ? (N extends `${infer B}+` ? B : N) | PathParamNames<Rest>
  : never;

/** One success response as the handler answers it. */
export interface SuccessDoc {
  description: string;
  /** A JSON body. */
  schema?: z.ZodType;
  /** A body of another media type (OpenAPI media type objects by content type). */
  content?: Record<string, object>;
  /** Response headers by name, with what they say. */
  headers?: Record<string, string>;
}

/** What a handler returns: a JSON body, or raw bytes/text with their content type. */
export interface ApiResponse {
  status: number;
  body?: unknown;
  /** Non-JSON bodies: text or bytes with their content type. */
  raw?: { contentType: string; data: string | Buffer };
  headers?: Record<string, string>;
}

/** What a handler receives, already authenticated, parsed and validated against the route's schemas. */
export interface RouteRequest<P extends string, Q, B> {
  deps: Deps;
  principal: Principal;
  /** Decoded and validated path parameters. */
  params: Record<PathParamNames<P>, string>;
  /** The query, validated by the route's `query` schema (paging keys apart). */
  query: Q;
  /** ?limit= (default 20, max 100) and ?cursor= of a paged route. */
  page: PageRequest;
  /** The body, validated by the route's `body` schema. */
  body: B;
  /** The parsed JSON body as sent (undefined when empty), for use cases that validate it themselves. */
  json: unknown;
  rawBody: Buffer;
  /** Request headers, lower-cased. */
  headers: Record<string, string>;
  event: APIGatewayProxyEventV2;
}

/** A route's definition. Handlers are declared with method syntax so every definition fits the route list. */
export interface RouteDefinition<
  M extends Method = Method,
  P extends string = string,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: M;
  path: P;
  access: Access;
  summary: string;
  description?: string;
  /** Query parameters besides ?limit= and ?cursor=; validated before the handler runs. */
  query?: Q;
  /** A list answering {items, nextCursor}: takes ?limit= and ?cursor=. */
  paged?: boolean;
  /** The JSON body's schema; validated before the handler runs (an absent body is parsed as {}). */
  body?: B;
  /** The documented body of a route whose use case validates the JSON itself (naming nodes, fields…). */
  bodyDoc?: z.ZodType;
  /** Request headers the route reads. */
  headers?: DocumentedHeader[];
  /** Every status the route answers on success, as the handler really answers. */
  responses: Partial<Record<SuccessStatus, SuccessDoc>>;
  /** Route-specific error reasons; `false` drops one the route's kind would otherwise be given (see errorsOf). */
  errors?: Partial<Record<ErrorStatus, string | false>>;
  handler(req: RouteRequest<P, z.output<Q>, z.output<B>>): Promise<ApiResponse>;
}

/** Any route, as the router and the document generator walk them. */
export type AnyRoute = RouteDefinition<Method, string, z.ZodType, z.ZodType>;

/** Defines a route, keeping its method and path as literal types (so the route keys are typed). */
export function defineRoute<
  const M extends Method,
  const P extends string,
  Q extends z.ZodType = z.ZodUnknown,
  B extends z.ZodType = z.ZodUnknown,
>(route: RouteDefinition<M, P, Q, B>): RouteDefinition<M, P, Q, B> {
  return route;
}

/** A JSON answer. */
export const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });

/** A documented JSON success response. */
export const json = (schema: z.ZodType, description: string): SuccessDoc => ({ schema, description });
