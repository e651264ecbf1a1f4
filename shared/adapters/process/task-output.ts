import type { TypedValue } from "../../domain/records.ts";
import { typeOfValue, VALUE_TYPES, type ValueType } from "../../domain/workflow.ts";

/** Parses `$STEPWISE_OUTPUT`: `key=value` lines (optionally `key:number=…`, `:boolean`, `:json`, `:string`). */
export function parseOutputFile(text: string): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (!line.trim() || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const where = `$STEPWISE_OUTPUT line ${i + 1}`;
    if (eq <= 0) throw new Error(`${where}: expected key=value, got ${JSON.stringify(line.slice(0, 80))}`);
    const [key, declared] = line.slice(0, eq).split(":", 2) as [string, string | undefined];
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new Error(`${where}: invalid key ${JSON.stringify(key)}`);
    const rawValue = line.slice(eq + 1);
    const type = (declared ?? "string") as ValueType;
    if (!VALUE_TYPES.includes(type))
      throw new Error(`${where}: unknown type '${declared}' (string, number, boolean, json)`);
    let value: unknown = rawValue;
    if (type === "number") {
      value = Number(rawValue);
      if (rawValue.trim() === "" || !Number.isFinite(value)) throw new Error(`${where}: '${key}' is not a number`);
    } else if (type === "boolean") {
      if (rawValue !== "true" && rawValue !== "false") throw new Error(`${where}: '${key}' is not true or false`);
      value = rawValue === "true";
    } else if (type === "json") {
      try {
        value = JSON.parse(rawValue);
      } catch {
        throw new Error(`${where}: '${key}' is not valid JSON`);
      }
    }
    out[key] = { type, value };
  });
  return out;
}

/** Turns a script's returned object into typed context values. */
export function typedResult(result: unknown): { vars: Record<string, TypedValue>; noAction: string | null } {
  if (result === null || result === undefined) return { vars: {}, noAction: null };
  if (typeof result !== "object" || Array.isArray(result))
    throw new Error("the script must return an object (or nothing)");
  const vars: Record<string, TypedValue> = {};
  let noAction: string | null = null;
  for (const [key, value] of Object.entries(result as Record<string, unknown>)) {
    if (key === "$noAction") {
      noAction = typeof value === "string" && value ? value : "no action";
      continue;
    }
    if (value === undefined) continue;
    vars[key] = { type: typeOfValue(value), value };
  }
  return { vars, noAction };
}
