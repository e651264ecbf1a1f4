// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${context.x} and ${params.x} are Stepwise references, not JS templates.
// Pure parts of the engine: the output file, script results, the run context and env interpolation.
import { describe, expect, it } from "vitest";
import { parseOutputFile, typedResult } from "../../shared/adapters/process/task-output.ts";
import type { TaskRecord } from "../../shared/domain/records.ts";
import { deriveContext, interpolate, plainContext, typeConflicts } from "../../shared/engine/run-context.ts";

describe("parseOutputFile ($STEPWISE_OUTPUT)", () => {
  it("reads key=value lines as strings, and typed keys", () => {
    const vars = parseOutputFile(
      [
        "# a comment",
        "",
        "name=report",
        "rows:number=3.5",
        "ok:boolean=true",
        'meta:json={"a":[1,2]}',
        "empty=",
        "eq=a=b",
        "crlf=x\r",
        "label:string=42",
      ].join("\n"),
    );
    expect(vars).toEqual({
      name: { type: "string", value: "report" },
      rows: { type: "number", value: 3.5 },
      ok: { type: "boolean", value: true },
      meta: { type: "json", value: { a: [1, 2] } },
      empty: { type: "string", value: "" },
      eq: { type: "string", value: "a=b" },
      crlf: { type: "string", value: "x" },
      label: { type: "string", value: "42" },
    });
  });

  it("rejects a line without '=' naming the line", () => {
    expect(() => parseOutputFile("a=1\nthis is garbage\n")).toThrow(/line 2/);
    expect(() => parseOutputFile("=nokey")).toThrow(/line 1/);
  });

  it("rejects bad keys, unknown types and values that do not match their type, naming the line", () => {
    expect(() => parseOutputFile("ok=1\n1bad=x")).toThrow(/line 2: invalid key/);
    expect(() => parseOutputFile("x:date=2020")).toThrow(/line 1: unknown type 'date'/);
    expect(() => parseOutputFile("n:number=ten")).toThrow(/line 1: 'n' is not a number/);
    expect(() => parseOutputFile("n:number=")).toThrow(/not a number/);
    expect(() => parseOutputFile("b:boolean=yes")).toThrow(/'b' is not true or false/);
    expect(() => parseOutputFile("\n\nj:json={oops")).toThrow(/line 3: 'j' is not valid JSON/);
  });

  it("lets a later line of the same key win", () => {
    expect(parseOutputFile("a=1\na=2")).toEqual({ a: { type: "string", value: "2" } });
  });
});

describe("typedResult (a script's return value)", () => {
  it("types each key and drops undefined", () => {
    expect(typedResult({ rows: 3, name: "x", ok: false, list: [1], nothing: undefined, nul: null })).toEqual({
      vars: {
        rows: { type: "number", value: 3 },
        name: { type: "string", value: "x" },
        ok: { type: "boolean", value: false },
        list: { type: "json", value: [1] },
        nul: { type: "json", value: null },
      },
      noAction: null,
    });
  });

  it("reads $noAction as the reason and keeps it out of the context", () => {
    expect(typedResult({ $noAction: "nothing new", seen: 2 })).toEqual({
      vars: { seen: { type: "number", value: 2 } },
      noAction: "nothing new",
    });
    expect(typedResult({ $noAction: true }).noAction).toBe("no action");
  });

  it("accepts nothing, refuses arrays and scalars", () => {
    expect(typedResult(null)).toEqual({ vars: {}, noAction: null });
    expect(typedResult(undefined)).toEqual({ vars: {}, noAction: null });
    expect(() => typedResult([1, 2])).toThrow(/object/);
    expect(() => typedResult(5)).toThrow(/object/);
  });
});

const task = (nodeId: string, seq: number | null, vars: TaskRecord["outputVariables"], status = "succeeded") =>
  ({ nodeId, status, contextSeq: seq, outputVariables: vars }) as unknown as TaskRecord;

describe("run context", () => {
  it("folds succeeded tasks' outputs in completion order, remembering the writer", () => {
    const ctx = deriveContext([
      task("late", 9, { x: { type: "number", value: 2 } }),
      task("early", 3, { x: { type: "number", value: 1 }, y: { type: "string", value: "a" } }),
      task("failed", null, { z: { type: "string", value: "no" } }, "failed"),
      task("running", null, { w: { type: "string", value: "no" } }, "running"),
    ]);
    expect(ctx).toEqual({
      x: { type: "number", value: 2, writtenBy: "late" },
      y: { type: "string", value: "a", writtenBy: "early" },
    });
    expect(plainContext(ctx)).toEqual({ x: 2, y: "a" });
  });

  it("fixes a key's type at its first write and names the key, both types and the first writer", () => {
    const ctx = deriveContext([task("count-it", 1, { count: { type: "number", value: 1 } })]);
    expect(typeConflicts(ctx, { count: { type: "number", value: 5 } })).toEqual([]);
    expect(typeConflicts(ctx, { other: { type: "string", value: "x" } })).toEqual([]);
    const problems = typeConflicts(ctx, { count: { type: "string", value: "two" } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("'count'");
    expect(problems[0]).toContain("number");
    expect(problems[0]).toContain("string");
    expect(problems[0]).toContain("'count-it'");
  });
});

describe("interpolate", () => {
  const scope = {
    context: { rows: 3, name: "r", obj: { a: 1 } },
    params: { day: "mon", "with-dash": "d" },
    run: { id: "run_1" },
  };

  it("expands context, params and run references; non-strings as JSON", () => {
    expect(interpolate("rows=${context.rows} day=${params.day} run=${run.id}", scope)).toBe("rows=3 day=mon run=run_1");
    expect(interpolate("${context.obj}|${context.name}|${params.with-dash}", scope)).toBe('{"a":1}|r|d');
    expect(interpolate("plain $HOME and ${HOME}", scope)).toBe("plain $HOME and ${HOME}");
  });

  it("fails on a reference to nothing, naming it", () => {
    expect(() => interpolate("${context.missing}", scope)).toThrow(/\$\{context\.missing\}/);
    expect(() => interpolate("${secrets.x}", scope)).toThrow(/\$\{secrets\.x\}/);
  });
});
