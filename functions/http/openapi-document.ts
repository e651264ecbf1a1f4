// The OpenAPI 3.1 document, generated from the route definitions and their zod schemas: served at
// GET /api/openapi.json and written to docs/openapi.json by `npm run docs`.

import { z } from "zod";
import { ENGINE_VERSION } from "../../shared/config.ts";
import { PATH_PARAM_DOCS } from "./path-params.ts";
import type { AnyRoute, ErrorStatus } from "./route.ts";
import { components } from "./schemas/schema-kit.ts";

const GENERIC_ERRORS: Record<ErrorStatus, string> = {
  400: "validation_failed: a bad body, path parameter or query value; `details` names each field",
  401: "unauthorized: a missing or unknown API key",
  403: "forbidden: the key's role may not do this",
  404: "not_found: no such resource in the key's org (another org's is never revealed)",
  409: "conflict",
  413: "payload_too_large: the body is over 1 MiB",
  415: "unsupported_media_type: a body that is not application/json",
};

/** The error statuses a route answers: those of its kind (body, list, path, access) and its own. */
export function errorsOf(route: AnyRoute): Partial<Record<ErrorStatus, string>> {
  const out: Partial<Record<ErrorStatus, string>> = {};
  const has = (cond: boolean, status: ErrorStatus) => {
    if (cond) out[status] = GENERIC_ERRORS[status];
  };
  const body = route.body ?? route.bodyDoc;
  const hasParams = route.path.includes("{");
  has(body !== undefined || route.query !== undefined || route.paged === true || hasParams, 400);
  has(route.access !== "public", 401);
  has(route.access !== "public" && route.access !== "signed" && route.access !== "viewer", 403);
  // A PUT creates what its path names; every other route with a path parameter looks it up first.
  has(hasParams && route.method !== "PUT", 404);
  has(body !== undefined, 413);
  has(body !== undefined, 415);
  for (const [status, reason] of Object.entries(route.errors ?? {})) {
    const s = Number(status) as ErrorStatus;
    if (reason === false) delete out[s];
    else out[s] = reason;
  }
  return out;
}

const SCHEMA_OPTIONS = { target: "draft-2020-12", io: "input", unrepresentable: "any" } as const;
const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

/** A `$ref` to a named component, or the schema inline. */
function schemaRef(schema: z.ZodType): Record<string, unknown> {
  const id = components.get(schema)?.id;
  if (id) return { $ref: `#/components/schemas/${id}` };
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, SCHEMA_OPTIONS) as Record<string, unknown>;
  return rest;
}

function queryParameters(query: z.ZodType): Record<string, unknown>[] {
  if (!(query instanceof z.ZodObject)) return [];
  return Object.entries(query.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const { description, ...schema } = schemaRef(field);
    return {
      name,
      in: "query",
      required: !field.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema,
    };
  });
}

/** The document's path of a route: API Gateway's greedy {path+} is OpenAPI's {path}. */
export const documentPath = (path: string): string => path.replace("{path+}", "{path}");

function operation(route: AnyRoute): Record<string, unknown> {
  const path = documentPath(route.path);
  const parameters: Record<string, unknown>[] = [...path.matchAll(/\{([A-Za-z0-9]+)\}/g)].map((m) => {
    const name = m[1] as string;
    const doc = PATH_PARAM_DOCS[name];
    return {
      name,
      in: "path",
      required: true,
      ...(doc ? { description: doc.description } : {}),
      schema: { type: "string", maxLength: doc?.maxLength ?? 200 },
    };
  });
  if (route.paged)
    parameters.push({ $ref: "#/components/parameters/limit" }, { $ref: "#/components/parameters/cursor" });
  if (route.query) parameters.push(...queryParameters(route.query));
  for (const h of route.headers ?? []) parameters.push({ $ref: `#/components/parameters/${h}` });

  const responses: Record<string, unknown> = {};
  for (const [status, s] of Object.entries(route.responses)) {
    const content = s.schema ? { "application/json": { schema: schemaRef(s.schema) } } : s.content;
    const headers = s.headers
      ? Object.fromEntries(
          Object.entries(s.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }]),
        )
      : undefined;
    responses[status] = {
      description: s.description,
      ...(headers ? { headers } : {}),
      ...(content ? { content } : {}),
    };
  }
  for (const [status, description] of Object.entries(errorsOf(route)))
    responses[status] = { description, content: errorContent };
  responses.default = {
    description: "Any other error in the contract's error JSON, e.g. internal (500; never leaks internals)",
    content: errorContent,
  };

  const segment = path.split("/").filter(Boolean);
  const op: Record<string, unknown> = {
    operationId: `${route.method.toLowerCase()}${path.replace(/[{}.]/g, "").replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [segment[0] === "api" ? (segment[1] ?? "api") : (segment[0] ?? "api")],
    "x-stepwise-access": route.access,
    parameters,
  };
  const body = route.body ?? route.bodyDoc;
  if (body) {
    op.requestBody = {
      // An absent body is parsed as {}: the body is required only when {} is not valid.
      required: !body.safeParse({}).success,
      content: { "application/json": { schema: schemaRef(body) } },
    };
  }
  op.responses = responses;
  if (route.access === "public" || route.access === "signed") op.security = [];
  return op;
}

/** The named component schemas, generated from the zod registry with cross references. */
function componentSchemas(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(components, {
    ...SCHEMA_OPTIONS,
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  const out: Record<string, unknown> = {};
  for (const id of Object.keys(schemas).sort()) {
    const { $schema: _s, $id: _i, ...rest } = schemas[id] as Record<string, unknown>;
    out[id] = rest;
  }
  return out;
}

const PARAMETERS = {
  limit: {
    name: "limit",
    in: "query",
    required: false,
    description: "page size",
    schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
  },
  cursor: {
    name: "cursor",
    in: "query",
    required: false,
    description: "the nextCursor of the previous page (opaque and bound to the org and the list; any other → 400)",
    schema: { type: "string" },
  },
  IdempotencyKey: {
    name: "Idempotency-Key",
    in: "header",
    required: false,
    description: "the same key again (24 h) answers with the same run instead of starting another",
    schema: { type: "string" },
  },
  WebhookIdHeader: {
    name: "webhook-id",
    in: "header",
    required: false,
    description: "Standard Webhooks: the delivery id (the replay guard's key for 24 h)",
    schema: { type: "string", maxLength: 160 },
  },
  WebhookTimestamp: {
    name: "webhook-timestamp",
    in: "header",
    required: false,
    description: "Standard Webhooks: unix seconds; more than 5 minutes from now is refused",
    schema: { type: "string", pattern: "^[0-9]+$" },
  },
  WebhookSignature: {
    name: "webhook-signature",
    in: "header",
    required: false,
    description:
      'Standard Webhooks: space-separated "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>", key = the base64-decoded part of the whsec_ secret',
    schema: { type: "string" },
  },
  HubSignature256: {
    name: "X-Hub-Signature-256",
    in: "header",
    required: false,
    description: "GitHub: sha256=<hex HMAC-SHA256(secret as written, raw body)>",
    schema: { type: "string", pattern: "^sha256=[0-9a-fA-F]{64}$" },
  },
  GithubDelivery: {
    name: "X-GitHub-Delivery",
    in: "header",
    required: false,
    description: "GitHub: the delivery id, required with X-Hub-Signature-256 (the replay guard's key for 24 h)",
    schema: { type: "string", maxLength: 160 },
  },
};

/** The OpenAPI 3.1 document of the given routes (the service passes all of its own). */
export function openApiDocument(routes: readonly AnyRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = documentPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Stepwise API",
      version: ENGINE_VERSION,
      description:
        "Generated from the route definitions in functions/http/routes/ and their zod schemas (npm run docs); also served at GET /api/openapi.json. Timestamps are UTC ISO 8601 with microseconds; hashes are sha256:<64 hex>; lists are newest first unless said otherwise.",
    },
    servers: [{ url: "http://127.0.0.1:8787" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      parameters: PARAMETERS,
      schemas: componentSchemas(),
    },
  };
}
