// The toolkit of the route schemas: the registry of named components of the OpenAPI document, and `answers`, which
// binds a response schema at compile time to the type its use case returns.

import { z } from "zod";
import { ROLES, type Role } from "../../../shared/domain/records.ts";

/** The named schemas of the document (`#/components/schemas/{id}`). */
export const components = z.registry<{ id: string }>();

/** Registers a schema as a named component; operations then refer to it with `$ref`. */
export const named = <S extends z.ZodType>(id: string, schema: S): S => {
  components.add(schema, { id });
  return schema;
};

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Every property path of a type (`.a`, `.a.b`, `.items[].c`), optional ones included. */
type Paths<T, P extends string = ""> = T extends readonly (infer E)[]
  ? Paths<E, `${P}[]`>
  : T extends object
    ? { [K in keyof T & string]-?: `${P}.${K}` | Paths<NonNullable<T[K]>, `${P}.${K}`> }[keyof T & string]
    : never;
export type Out<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;
type UndefinedKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
/** A type as its JSON reads: a property that may be undefined may be absent. */
type AsJson<T> = T extends readonly (infer E)[]
  ? AsJson<E>[]
  : T extends object
    ? { [K in Exclude<keyof T, UndefinedKeys<T>>]: AsJson<T[K]> } & { [K in UndefinedKeys<T>]?: AsJson<T[K]> }
    : T;

/**
 * A response schema bound to the type the handler answers with: when the two differ (a field added, removed or
 * retyped on one side only), the call lacks its `mismatch` argument and tsc fails here.
 */
export const answers =
  <T>() =>
  <S extends z.ZodType>(
    id: string,
    schema: S,
    ..._mismatch: [Same<AsJson<z.output<S>>, AsJson<T>>, Same<Paths<z.output<S>>, Paths<T>>] extends [true, true]
      ? []
      : [mismatch: "the schema differs from the response type"]
  ): S =>
    components.has(schema) ? schema : named(id, schema);

export const iso = () => z.string().describe("UTC ISO 8601 with microseconds");
export const hash = () => z.string().describe("sha256:<64 hex>");
export const nextCursor = z.string().nullable().describe("pass as ?cursor= for the next page; null on the last page");
export const page = <S extends z.ZodType>(item: S) => z.object({ items: z.array(item), nextCursor });
export const role = z.enum(ROLES as [Role, ...Role[]]);

// ---- Errors in the contract's JSON -------------------------------------------------------------------------------------------------------

export const ErrorSchema = named(
  "Error",
  z.object({
    error: z.object({
      code: z.enum([
        "validation_failed",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "payload_too_large",
        "unsupported_media_type",
        "rate_limited",
        "internal",
      ]),
      message: z.string(),
      details: z
        .array(z.object({ path: z.string().optional(), message: z.string() }))
        .optional()
        .describe("one entry per bad field (validation_failed)"),
    }),
  }),
);
