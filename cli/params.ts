import type { z } from "zod";
import type { InputFieldSchema, ParameterSchema } from "../shared/domain/workflow.ts";
import { CliError } from "./errors.ts";

/** Splits `key=value` at the first `=`, so values may themselves contain `=`. */
export function parseAssignment(text: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new CliError(`expected key=value, got '${text}'`);
  return [text.slice(0, at).trim(), text.slice(at + 1)];
}

/** Parses a list of `key=value` arguments; a key given twice is an error rather than a silent overwrite. */
export function parseAssignments(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const [key, value] = parseAssignment(item);
    if (key === "") throw new CliError(`expected key=value, got '${item}'`);
    if (Object.hasOwn(out, key)) throw new CliError(`'${key}' is given more than once`);
    out[key] = value;
  }
  return out;
}

/** Groups `workflow.key` names of job parameters by workflow; workflow names cannot contain dots. */
export function groupJobParameters(raw: Record<string, string>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [name, value] of Object.entries(raw)) {
    const dot = name.indexOf(".");
    if (dot <= 0 || dot === name.length - 1) {
      throw new CliError(`job parameters are given as workflow.key=value, got '${name}=${value}'`);
    }
    const workflow = name.slice(0, dot);
    out[workflow] = { ...out[workflow], [name.slice(dot + 1)]: value };
  }
  return out;
}

// The definition's own types: what the server validates is what the CLI coerces to.
export type ParameterSpec = z.infer<typeof ParameterSchema>;
export type ParameterType = ParameterSpec["type"];
export type InputFieldSpec = z.infer<typeof InputFieldSchema>;

const TRUE = new Set(["true", "yes", "y", "on", "1"]);
const FALSE = new Set(["false", "no", "n", "off", "0"]);

function toNumber(raw: string, what: string): number {
  const n = Number(raw.trim());
  if (raw.trim() === "" || !Number.isFinite(n)) throw new CliError(`${what} must be a number, got '${raw}'`);
  return n;
}

function toBoolean(raw: string, what: string): boolean {
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new CliError(`${what} must be a boolean (true or false), got '${raw}'`);
}

/** Converts a command-line string to a workflow parameter of the given type. */
export function coerceParameter(raw: string, type: ParameterType, what: string): unknown {
  switch (type) {
    case "number":
      return toNumber(raw, what);
    case "boolean":
      return toBoolean(raw, what);
    case "json":
      try {
        return JSON.parse(raw);
      } catch {
        throw new CliError(`${what} must be JSON, got '${raw}'`);
      }
    default:
      return raw;
  }
}

/**
 * Coerces `key=value` strings by the workflow's parameter types. Names the workflow does not declare
 * stay strings: the server is the one that rejects unknown parameters, with its own message.
 */
export function coerceParameters(
  raw: Record<string, string>,
  spec: Record<string, ParameterSpec> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const type = spec?.[key]?.type ?? "string";
    try {
      out[key] = coerceParameter(value, type, `parameter '${key}'`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  throwProblems(problems);
  return out;
}

/** Converts a command-line string to a value for an input node's field. */
export function coerceField(raw: string, field: InputFieldSpec, what: string): unknown {
  switch (field.type) {
    case "number":
      return toNumber(raw, what);
    case "boolean":
      return toBoolean(raw, what);
    case "enum":
      if (field.values && !field.values.includes(raw)) {
        throw new CliError(`${what} must be one of ${field.values.join(", ")}, got '${raw}'`);
      }
      return raw;
    default:
      return raw;
  }
}

/** Coerces `key=value` strings by an input node's field types; undeclared fields stay strings for the server to judge. */
export function coerceFields(
  raw: Record<string, string>,
  fields: Record<string, InputFieldSpec> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const field = fields?.[key];
    try {
      out[key] = field ? coerceField(value, field, `field '${key}'`) : value;
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  throwProblems(problems);
  return out;
}

function throwProblems(problems: string[]): void {
  if (problems.length === 1) throw new CliError(problems[0] as string);
  if (problems.length > 1) throw new CliError(`${problems.length} invalid values`, problems);
}
