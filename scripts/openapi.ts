import { z } from "zod";
import { ROUTE_SPECS } from "../functions/http/route-specs.ts";
import { ENGINE_VERSION } from "../shared/config.ts";
import { WorkflowDefinitionSchema } from "../shared/domain/workflow.ts";

/** The workflow definition's JSON Schema, generated from the zod schema the API validates with. */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkflowDefinitionSchema, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
}

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: {
          type: "string",
          enum: [
            "validation_failed",
            "unauthorized",
            "forbidden",
            "not_found",
            "conflict",
            "payload_too_large",
            "unsupported_media_type",
            "rate_limited",
            "internal",
          ],
        },
        message: { type: "string" },
        details: {
          type: "array",
          items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
        },
      },
    },
  },
};

/** The OpenAPI 3.1 document of every route, generated from the route table and the schemas. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of ROUTE_SPECS) {
    const path = spec.path.replace("{path+}", "{path}");
    const params = [...path.matchAll(/\{([A-Za-z0-9]+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const op: Record<string, unknown> = {
      operationId: `${spec.method.toLowerCase()}${path.replace(/[{}]/g, "").replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      "x-stepwise-access": spec.access,
      parameters: params,
      responses: {
        default: {
          description: "An error",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
    };
    if (spec.access === "public" || spec.access === "signed") op.security = [];
    if (spec.method === "PUT" && spec.path === "/api/workflows/{name}") {
      op.requestBody = {
        required: true,
        content: { "application/json": { schema: { $ref: "#/components/schemas/WorkflowDefinition" } } },
      };
    }
    paths[path] = { ...paths[path], [spec.method.toLowerCase()]: op };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Stepwise API",
      version: ENGINE_VERSION,
      description: "Generated from functions/http/route-specs.ts and the zod schemas.",
    },
    servers: [{ url: "http://127.0.0.1:8787" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Error: errorSchema, WorkflowDefinition: workflowJsonSchema() },
    },
  };
}

// `node --import tsx scripts/openapi.ts` rewrites docs/openapi.json and docs/workflow.schema.json.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFile } = await import("node:fs/promises");
  await writeFile("docs/openapi.json", `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  await writeFile("docs/workflow.schema.json", `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`);
  console.log("wrote docs/openapi.json and docs/workflow.schema.json");
}
