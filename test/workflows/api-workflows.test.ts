// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${context.x} and ${params.x} are Stepwise references, not JS templates.
// Workflow definitions through the HTTP API: validation, versions and the definition hash.
import { createHash } from "node:crypto";
import canonicalizeImport from "canonicalize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandWorkflow, HASH, type Json, MICRO_ISO, startStack, type TestStack } from "../support/stack.ts";

const canonicalize = canonicalizeImport as unknown as (v: unknown) => string;
/** The contract's definitionHash, computed independently of the server's code. */
const expectedHash = (def: unknown) => `sha256:${createHash("sha256").update(canonicalize(def)).digest("hex")}`;

let s: TestStack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await s?.stop();
});

function expectValidation(res: { status: number; body: Json }, ...mustName: string[]): void {
  expect(res.status).toBe(400);
  expect(Object.keys(res.body)).toEqual(["error"]);
  expect(res.body.error.code).toBe("validation_failed");
  for (const n of mustName) expect(res.body.error.message).toContain(n);
}

const put = (name: string, def: unknown) => s.api(`/api/workflows/${name}`, { method: "PUT", body: def });

describe("PUT /api/workflows/{name}", () => {
  it("creates a version (201), returns 200 with the same hash for the same definition, 201 v2 when changed", async () => {
    const def = {
      name: "report",
      description: "a report",
      parameters: { day: { type: "string", required: true } },
      nodes: [
        { id: "extract", type: "script", runtime: "node", code: "export default async () => ({ rows: 3 })" },
        { id: "render", type: "command", needs: ["extract"], command: "echo $ROWS", env: { ROWS: "${context.rows}" } },
      ],
    };
    const first = await put("report", def);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ name: "report", version: 1, definitionHash: expectedHash(def) });
    expect(first.body.definitionHash).toMatch(HASH);

    // Same definition with keys in another order: still the same definition.
    const reordered = { nodes: def.nodes, parameters: def.parameters, description: def.description, name: "report" };
    const second = await put("report", reordered);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);

    const changed = { ...def, description: "changed" };
    const third = await put("report", changed);
    expect(third.status).toBe(201);
    expect(third.body).toEqual({ name: "report", version: 2, definitionHash: expectedHash(changed) });

    const back = await put("report", def);
    expect(back.status).toBe(201);
    expect(back.body.version).toBe(3);
    expect(back.body.definitionHash).toBe(first.body.definitionHash);
  });

  it("hashes the definition as written, with optional fields left out", async () => {
    const def = {
      name: "sparse",
      nodes: [
        { id: "a", type: "command", command: "true", retry: { maxAttempts: 2 } },
        { id: "ok", type: "approval", needs: ["a"] },
      ],
    };
    const res = await put("sparse", def);
    expect(res.status).toBe(201);
    expect(res.body.definitionHash).toBe(expectedHash(def));
    const got = await s.json("/api/workflows/sparse");
    expect(got.definition).toEqual(def);
    expect(expectedHash(got.definition)).toBe(res.body.definitionHash);
  });

  it("rejects a cycle, an unknown need and a duplicate id with 400 naming the node", async () => {
    const cmd = (id: string, needs?: string[]) => ({ id, type: "command", command: "true", needs });
    expectValidation(
      await put("bad", { name: "bad", nodes: [cmd("a"), cmd("b", ["a", "c"]), cmd("c", ["b"])] }),
      "cycle",
      "'b'",
    );
    expectValidation(await put("bad", { name: "bad", nodes: [cmd("a"), cmd("b", ["ghost"])] }), "'b'", "ghost");
    expectValidation(await put("bad", { name: "bad", nodes: [cmd("a"), cmd("a")] }), "'a'", "duplicate");
    expectValidation(
      await put("bad", { name: "bad", nodes: [cmd("a"), { ...cmd("b"), timeoutSeconds: "soon" }] }),
      "node 'b'",
      "timeoutSeconds",
    );
    expectValidation(await put("bad", { name: "bad", nodes: [cmd("a"), { ...cmd("b"), colour: "red" }] }), "node 'b'");
    const noNodes = await put("bad", { name: "bad", nodes: [] });
    expectValidation(noNodes);
    expect(noNodes.body.error.details[0].path).toBe("nodes");
    expect((await s.api("/api/workflows/bad")).status).toBe(404);
  });

  it("rejects a definition whose name differs from the URL, an empty body, and unknown top-level fields", async () => {
    expectValidation(await put("one-name", commandWorkflow("other-name", "true")), "other-name");
    expectValidation(await s.api("/api/workflows/empty", { method: "PUT" }));
    expectValidation(await put("extra", { ...commandWorkflow("extra", "true"), owner: "me" }), "owner");
  });

  it("400 for a body that is not JSON, 415 for a body that is not application/json", async () => {
    const bad = await s.api("/api/workflows/x", { method: "PUT", raw: '{"name": "x", ' });
    expectValidation(bad);
    const text = await s.api("/api/workflows/x", {
      method: "PUT",
      raw: JSON.stringify(commandWorkflow("x", "true")),
      contentType: "text/plain",
    });
    expect(text.status).toBe(415);
    expect(text.body).toEqual({ error: { code: "unsupported_media_type", message: expect.any(String) } });
    const yaml = await s.api("/api/workflows/x", { method: "PUT", raw: "name: x", contentType: "application/yaml" });
    expect(yaml.status).toBe(415);
    const charset = await s.api("/api/workflows/x", {
      method: "PUT",
      raw: JSON.stringify(commandWorkflow("x", "true")),
      contentType: "application/json; charset=utf-8",
    });
    expect(charset.status).toBe(201);
  });

  it("413 for a body over 1 MiB, with the error JSON", async () => {
    const huge = { ...commandWorkflow("huge", "true"), description: "x".repeat(2 * 1024 * 1024) };
    const res = await put("huge", huge);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: "payload_too_large", message: expect.any(String) } });
    expect((await s.api("/api/workflows/huge")).status).toBe(404);
  });
});

describe("GET /api/workflows", () => {
  it("shows the latest version with its definition, the versions newest first, and the list", async () => {
    const v1 = commandWorkflow("listed", "echo 1");
    const v2 = commandWorkflow("listed", "echo 2");
    await put("listed", v1);
    await put("listed", v2);

    const latest = await s.json("/api/workflows/listed");
    expect(latest).toMatchObject({ name: "listed", version: 2, definitionHash: expectedHash(v2), definition: v2 });
    expect(latest.createdAt).toMatch(MICRO_ISO);

    const versions = await s.json("/api/workflows/listed/versions");
    expect(versions.items.map((v: Json) => v.version)).toEqual([2, 1]);
    expect(versions.items[1]).toMatchObject({ definitionHash: expectedHash(v1), definition: v1 });
    expect(versions.nextCursor).toBeNull();
    const page = await s.json("/api/workflows/listed/versions?limit=1");
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
    const rest = await s.json(`/api/workflows/listed/versions?limit=1&cursor=${encodeURIComponent(page.nextCursor)}`);
    expect(rest.items.map((v: Json) => v.version)).toEqual([1]);

    const list = await s.json("/api/workflows?limit=100");
    const entry = list.items.find((w: Json) => w.name === "listed");
    expect(entry).toMatchObject({ name: "listed", version: 2, definitionHash: expectedHash(v2) });
    expect(list).toHaveProperty("nextCursor");
  });

  it("lists workflows newest first: the one changed last leads, across pages", async () => {
    for (const name of ["order-b", "order-a", "order-c"]) await put(name, commandWorkflow(name, "true"));
    await put("order-b", commandWorkflow("order-b", "echo changed"));
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page: Json = await s.json(`/api/workflows?limit=2${query}`);
      names.push(...page.items.map((w: Json) => w.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(names.filter((n) => n.startsWith("order-"))).toEqual(["order-b", "order-c", "order-a"]);
    expect(new Set(names).size).toBe(names.length);
  });

  it("404 for an unknown workflow, its versions and its runs", async () => {
    for (const path of ["/api/workflows/nope", "/api/workflows/nope/versions", "/api/workflows/nope/runs"]) {
      const res = await s.api(path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
  });

  it("a bad limit is 400", async () => {
    for (const limit of ["0", "101", "abc", "-1", "1.5"]) {
      const res = await s.api(`/api/workflows?limit=${limit}`);
      expectValidation(res, "limit");
    }
    expect((await s.api("/api/workflows?limit=100")).status).toBe(200);
    expect((await s.api("/api/workflows?cursor=garbage")).status).toBe(400);
  });
});
