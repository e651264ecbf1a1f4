// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${context.x} and ${params.x} are Stepwise references, not JS templates.
import { createHash } from "node:crypto";
import canonicalizeImport from "canonicalize";
import { describe, expect, it } from "vitest";
import { canonicalJson, hashJson, sha256 } from "../../shared/domain/hash.ts";
import {
  definitionHash,
  matchesType,
  parseDefinition,
  resolveParameters,
  typeOfValue,
  type WorkflowDefinition,
} from "../../shared/domain/workflow.ts";
import { ValidationError } from "../../shared/errors.ts";

const canonicalize = canonicalizeImport as unknown as (v: unknown) => string;
/** sha256 of RFC 8785 JSON, computed without the project's own helpers. */
const independentHash = (v: unknown) => `sha256:${createHash("sha256").update(canonicalize(v)).digest("hex")}`;

const base = (nodes: unknown[], extra: Record<string, unknown> = {}) => ({ name: "wf", nodes, ...extra });
const cmd = (id: string, needs?: string[]) => ({ id, type: "command", command: "true", ...(needs ? { needs } : {}) });

/** The ValidationError a definition raises (fails the test when it parses). */
function rejection(input: unknown, name?: string): ValidationError {
  try {
    parseDefinition(input, name);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error("the definition was accepted");
}

describe("parseDefinition", () => {
  it("accepts the contract's example definition", () => {
    const def = parseDefinition({
      name: "nightly-report",
      description: "optional",
      parameters: { day: { type: "string", required: true }, limit: { type: "number", default: 10 } },
      nodes: [
        {
          id: "extract",
          type: "script",
          runtime: "node",
          code: "export default async ({ params, context }) => ({ rows: 3 })",
          retry: { maxAttempts: 3, backoffSeconds: 1 },
          timeoutSeconds: 60,
        },
        {
          id: "render",
          type: "command",
          needs: ["extract"],
          command: "echo rows=$ROWS > out/report.txt",
          env: { ROWS: "${context.rows}" },
        },
        {
          id: "sign-off",
          type: "approval",
          needs: ["render"],
          approvers: { count: 1 },
          timeoutSeconds: 86400,
          onTimeout: "reject",
        },
        {
          id: "otp",
          type: "input",
          needs: ["sign-off"],
          fields: { code: { type: "string", secret: true } },
          timeoutSeconds: 600,
        },
        { id: "cool-down", type: "wait", needs: ["otp"], seconds: 5 },
        { id: "publish", type: "command", needs: ["cool-down"], inputs: ["report.txt"], command: "cat in/report.txt" },
      ],
    });
    expect(def.nodes.map((n) => n.id)).toEqual(["extract", "render", "sign-off", "otp", "cool-down", "publish"]);
  });

  it("rejects a duplicate id naming the node", () => {
    const err = rejection(base([cmd("a"), cmd("b"), cmd("a")]));
    expect(err.message).toContain("'a'");
    expect(err.message).toMatch(/duplicate/);
  });

  it("rejects an unknown need naming the node and the missing one", () => {
    const err = rejection(base([cmd("a"), cmd("b", ["ghost"])]));
    expect(err.message).toContain("'b'");
    expect(err.message).toContain("ghost");
  });

  it("rejects a cycle naming a node in it, and a node needing itself", () => {
    const err = rejection(base([cmd("start"), cmd("x", ["start", "z"]), cmd("y", ["x"]), cmd("z", ["y"])]));
    expect(err.message).toMatch(/cycle/);
    expect(err.message).toMatch(/'x'|'y'|'z'/);
    expect(err.message).not.toContain("'start'");
    const self = rejection(base([cmd("loop", ["loop"])]));
    expect(self.message).toContain("'loop'");
  });

  it("rejects unknown fields and bad fields, naming the node", () => {
    const unknown = rejection(base([cmd("a"), { ...cmd("b"), colour: "red" }]));
    expect(unknown.message).toContain("node 'b'");
    expect(unknown.details).toEqual([{ path: "nodes.1.colour", message: "node 'b': colour: unknown field" }]);
    const badType = rejection(base([{ id: "c", type: "teleport" }]));
    expect(badType.message).toContain("node 'c'");
    const badTimeout = rejection(base([{ ...cmd("d"), timeoutSeconds: 0 }]));
    expect(badTimeout.message).toContain("node 'd'");
    expect(badTimeout.details?.[0]?.path).toBe("nodes.0.timeoutSeconds");
    expect(rejection({ name: "wf", nodes: [cmd("a")], extra: 1 }).details).toEqual([
      { path: "extra", message: "extra: unknown field" },
    ]);
  });

  it("rejects bad ids, names, a name that differs from the route, and defaults of the wrong type", () => {
    expect(rejection(base([cmd("has space")])).message).toContain("node 'has space': id");
    expect(rejection({ name: "Upper", nodes: [cmd("a")] }).message).toContain("name");
    expect(rejection(base([cmd("a")]), "other").message).toContain("'other'");
    const def = base([cmd("a")], { parameters: { n: { type: "number", default: "ten" } } });
    expect(rejection(def).message).toContain("'n'");
  });

  it("rejects an input enum without values and an invalid pattern", () => {
    const enumNode = { id: "ask", type: "input", fields: { pick: { type: "enum" } } };
    expect(rejection(base([enumNode])).message).toContain("'ask'");
    const patternNode = { id: "ask", type: "input", fields: { code: { type: "string", pattern: "([" } } };
    expect(rejection(base([patternNode])).message).toContain("pattern");
  });
});

describe("definitionHash", () => {
  it("is sha256 of the RFC 8785 canonical JSON, whatever the key order", () => {
    const def = base([{ command: "echo hi", type: "command", id: "a", env: { B: "2", A: "1" } }], {
      description: "ünïcode ✓",
    });
    const parsed = parseDefinition(def);
    expect(definitionHash(parsed)).toBe(independentHash(def));
    const reordered = { nodes: def.nodes, description: "ünïcode ✓", name: def.name };
    expect(definitionHash(parseDefinition(reordered))).toBe(independentHash(def));
    expect(definitionHash(parsed)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("equals the hash of the definition as written, even when it leaves optional fields out", () => {
    const def = base([
      { ...cmd("a"), retry: { maxAttempts: 2 } },
      { id: "ok", type: "approval", needs: ["a"] },
    ]);
    expect(definitionHash(parseDefinition(def))).toBe(independentHash(def));
  });

  it("canonicalJson sorts keys and writes numbers as ECMAScript does", () => {
    expect(canonicalJson({ b: 1, a: [1e21, 0.1, -0], c: "\u2028" })).toBe('{"a":[1e+21,0.1,0],"b":1,"c":"\u2028"}');
    expect(hashJson({ x: 1 })).toBe(sha256('{"x":1}'));
  });
});

describe("resolveParameters", () => {
  const def = parseDefinition(
    base([cmd("a")], {
      parameters: {
        day: { type: "string", required: true },
        limit: { type: "number", default: 10 },
        loud: { type: "boolean" },
        extra: { type: "json", default: { k: [1] } },
      },
    }),
  ) as WorkflowDefinition;

  it("applies defaults and keeps given values", () => {
    expect(resolveParameters(def, { day: "mon" })).toEqual({ day: "mon", limit: 10, extra: { k: [1] } });
    expect(resolveParameters(def, { day: "mon", limit: 3, loud: true })).toEqual({
      day: "mon",
      limit: 3,
      loud: true,
      extra: { k: [1] },
    });
  });

  it("names every missing, mistyped or unknown parameter", () => {
    let err: ValidationError | null = null;
    try {
      resolveParameters(def, { limit: "3", nope: 1 });
    } catch (e) {
      err = e as ValidationError;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const paths = err?.details?.map((d) => d.path).sort();
    expect(paths).toEqual(["parameters.day", "parameters.limit", "parameters.nope"]);
    expect(() => resolveParameters(def, [1])).toThrow(ValidationError);
    expect(() => resolveParameters(def, { day: "x", limit: Number.NaN })).toThrow(/limit/);
  });
});

describe("value types", () => {
  it("types values and checks them", () => {
    expect([typeOfValue("a"), typeOfValue(1), typeOfValue(false), typeOfValue({}), typeOfValue(null)]).toEqual([
      "string",
      "number",
      "boolean",
      "json",
      "json",
    ]);
    expect(matchesType("number", Number.POSITIVE_INFINITY)).toBe(false);
    expect(matchesType("json", null)).toBe(true);
    expect(matchesType("string", 1)).toBe(false);
  });
});
