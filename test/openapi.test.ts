import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ROUTE_SPECS } from "../functions/http/route-specs.ts";
import { openApiDocument, workflowJsonSchema } from "../scripts/openapi.ts";

describe("generated API documents", () => {
  it("docs/openapi.json is the document the route table and schemas generate (run npm run docs)", async () => {
    const committed = JSON.parse(await readFile("docs/openapi.json", "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    const operations = Object.values(committed.paths as Record<string, object>).flatMap((p) => Object.keys(p));
    expect(operations.length).toBe(ROUTE_SPECS.length);
  });

  it("docs/workflow.schema.json matches the definition schema", async () => {
    const committed = JSON.parse(await readFile("docs/workflow.schema.json", "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(workflowJsonSchema())));
    expect(committed.required).toEqual(expect.arrayContaining(["name", "nodes"]));
  });
});
