import { describe, expect, it } from "vitest";
import {
  coerceInputValues,
  coerceParameters,
  fieldErrorsFromDetails,
  initialParameterValues,
} from "../../dashboard/src/forms.ts";
import { can, selfApprovalBlocked } from "../../dashboard/src/permissions.ts";
import type { ParameterSpec } from "../../dashboard/src/types.ts";

const spec: Record<string, ParameterSpec> = {
  day: { type: "string", required: true },
  limit: { type: "number", default: 10 },
  dryRun: { type: "boolean" },
  filters: { type: "json", default: { region: "eu" } },
};

describe("trigger parameters", () => {
  it("starts each field from its default, written as one would type it", () => {
    expect(initialParameterValues(spec)).toEqual({
      day: "",
      limit: "10",
      dryRun: "",
      filters: '{\n  "region": "eu"\n}',
    });
  });

  it("converts typed text to typed values and leaves empty fields to the server's defaults", () => {
    expect(coerceParameters(spec, { day: "2026-11-20", limit: "25", dryRun: "true", filters: '{"a":[1]}' })).toEqual({
      values: { day: "2026-11-20", limit: 25, dryRun: true, filters: { a: [1] } },
      errors: {},
    });
    expect(coerceParameters(spec, { day: "", limit: "", dryRun: "" }).values).toEqual({});
  });

  it("names the field whose text is not of its type", () => {
    const { errors } = coerceParameters(spec, { day: "x", limit: "ten", filters: "{oops" });
    expect(Object.keys(errors).sort()).toEqual(["filters", "limit"]);
    expect(errors.limit).toBe("Enter a number.");
    expect(errors.filters).toMatch(/^Not valid JSON/);
  });
});

describe("input step values", () => {
  it("always sends booleans and converts numbers", () => {
    const fields = {
      code: { type: "string" as const, secret: true },
      count: { type: "number" as const },
      urgent: { type: "boolean" as const },
      channel: { type: "enum" as const, values: ["email", "slack"] },
    };
    expect(coerceInputValues(fields, { code: "123456", count: "3", channel: "slack" })).toEqual({
      values: { code: "123456", count: 3, urgent: false, channel: "slack" },
      errors: {},
    });
    expect(coerceInputValues(fields, { count: "x" }).errors).toEqual({ count: "Enter a number." });
  });
});

describe("fieldErrorsFromDetails", () => {
  it("puts each detail next to the field its path names, in any of the usual spellings", () => {
    const { byField, other } = fieldErrorsFromDetails(
      [
        { path: "values.code", message: "must match ^[0-9]{6}$" },
        { path: "parameters.day", message: "missing required parameter 'day'" },
        { path: "/values/count", message: "must be a number" },
        { path: "channel", message: "must be one of email, slack" },
        { path: "", message: "something general" },
        { path: "values.unknown", message: "unknown field" },
      ],
      ["code", "day", "count", "channel"],
    );
    expect(byField).toEqual({
      code: "must match ^[0-9]{6}$",
      day: "missing required parameter 'day'",
      count: "must be a number",
      channel: "must be one of email, slack",
    });
    expect(other).toEqual(["something general", "values.unknown: unknown field"]);
  });
});

describe("permissions", () => {
  it("lets each role take only its actions", () => {
    expect(can("viewer", "trigger")).toBe(false);
    expect(can("viewer", "decide")).toBe(false);
    expect(can("approver", "decide")).toBe(true);
    expect(can("approver", "cancel")).toBe(false);
    expect(can("operator", "trigger")).toBe(true);
    expect(can("operator", "cancel")).toBe(true);
    expect(can("operator", "decide")).toBe(false);
    expect(can("approver", "trigger")).toBe(false);
    expect(can("admin", "rerun")).toBe(true);
    expect(can("admin", "decide")).toBe(true);
    expect(can(undefined, "trigger")).toBe(false);
  });

  it("lets operators and approvers answer input steps", () => {
    expect(can("operator", "input")).toBe(true);
    expect(can("approver", "input")).toBe(true);
    expect(can("viewer", "input")).toBe(false);
  });

  it("keeps whoever started a run from approving it, unless the node allows it", () => {
    expect(selfApprovalBlocked("alice", "alice")).toBe(true);
    expect(selfApprovalBlocked("alice", "alice", true)).toBe(false);
    expect(selfApprovalBlocked("bob", "alice")).toBe(false);
    expect(selfApprovalBlocked("bob", null)).toBe(false);
  });

  it("narrows deciding to the roles an approval node names", () => {
    expect(can("approver", "decide", ["approver"])).toBe(true);
    expect(can("approver", "decide", ["admin"])).toBe(false);
  });
});
