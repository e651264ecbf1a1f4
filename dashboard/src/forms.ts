// Turning what people type into typed API values, and API error details back into per-field messages.
// Checks here are only about types the browser cannot express; the server's validation is the rule,
// and its 400 details are shown next to the field they name.
import type { ErrorDetail, InputFieldSpec, ParameterSpec } from "./types.ts";

export type RawValues = Record<string, string | boolean | undefined>;

export interface Coerced {
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

/** The starting text of each parameter field: its default, written as one would type it. */
export function initialParameterValues(spec: Record<string, ParameterSpec> = {}): RawValues {
  const raw: RawValues = {};
  for (const [key, p] of Object.entries(spec)) {
    if (p.default === undefined) raw[key] = "";
    else if (p.type === "boolean") raw[key] = p.default === true ? "true" : p.default === false ? "false" : "";
    else if (p.type === "json") raw[key] = JSON.stringify(p.default, null, 2);
    else raw[key] = String(p.default);
  }
  return raw;
}

/**
 * Typed parameters from form text. An empty optional field is left out so the server applies the default;
 * an empty required one is left out too and the server names it.
 */
export function coerceParameters(spec: Record<string, ParameterSpec> = {}, raw: RawValues): Coerced {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [key, p] of Object.entries(spec)) {
    const v = raw[key];
    if (v === undefined || v === "") continue;
    const text = String(v);
    switch (p.type) {
      case "string":
        values[key] = text;
        break;
      case "number": {
        const n = Number(text.trim());
        if (text.trim() === "" || !Number.isFinite(n)) errors[key] = "Enter a number.";
        else values[key] = n;
        break;
      }
      case "boolean":
        if (text === "true" || v === true) values[key] = true;
        else if (text === "false" || v === false) values[key] = false;
        else errors[key] = "Choose true or false.";
        break;
      case "json":
        try {
          values[key] = JSON.parse(text);
        } catch (err) {
          errors[key] = `Not valid JSON: ${(err as Error).message}`;
        }
        break;
    }
  }
  return { values, errors };
}

/** Typed values of an input step's fields. Booleans are always sent (a checkbox is always true or false). */
export function coerceInputValues(fields: Record<string, InputFieldSpec> = {}, raw: RawValues): Coerced {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [key, f] of Object.entries(fields)) {
    const v = raw[key];
    if (f.type === "boolean") {
      values[key] = v === true || v === "true";
      continue;
    }
    if (v === undefined || v === "") continue;
    if (f.type === "number") {
      const n = Number(String(v).trim());
      if (!Number.isFinite(n)) errors[key] = "Enter a number.";
      else values[key] = n;
      continue;
    }
    values[key] = String(v);
  }
  return { values, errors };
}

/**
 * Splits API error details into messages per field and the rest. A detail names a field by its path,
 * either bare ("code") or under a prefix ("values.code", "parameters.day", "/values/code").
 */
export function fieldErrorsFromDetails(
  details: readonly ErrorDetail[] | undefined,
  fieldNames: readonly string[],
): { byField: Record<string, string>; other: string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const d of details ?? []) {
    const segments = String(d.path ?? "")
      .split(/[./[\]]+/)
      .filter(Boolean);
    const name = [...segments].reverse().find((s) => fieldNames.includes(s));
    if (name) byField[name] = byField[name] ? `${byField[name]} ${d.message}` : d.message;
    else other.push(d.path ? `${d.path}: ${d.message}` : d.message);
  }
  return { byField, other };
}
