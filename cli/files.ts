import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { CliError } from "./errors.ts";

/** Parses a definition file's text: JSON for `.json`, YAML otherwise (YAML also reads JSON). */
export async function parseDocument(text: string, file: string): Promise<unknown> {
  if (extname(file).toLowerCase() === ".json") {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new CliError(`${file}: invalid JSON: ${(err as Error).message}`);
    }
  }
  // Loaded on use, so that commands reading no YAML start without the parser. `yaml` is CommonJS: its exports are
  // the namespace's default, in Node and in the bundle alike.
  const parseYaml = (await import("yaml")).default.parse;
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (err) {
    // The yaml package's messages carry the line and column; keep only the first line.
    const first = String((err as Error).message).split("\n")[0];
    throw new CliError(`${file}: invalid YAML: ${first}`);
  }
}

/** Reads a JSON or YAML file holding one object that has a string `name`. */
export async function readNamedDocument(
  file: string,
  cwd: string,
): Promise<Record<string, unknown> & { name: string }> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === "ENOENT" ? `file not found: ${file}` : `cannot read ${file}: ${(err as Error).message}`,
    );
  }
  const doc = await parseDocument(text, file);
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new CliError(`${file}: expected an object at the top level`);
  }
  const name = (doc as { name?: unknown }).name;
  if (typeof name !== "string" || name === "") throw new CliError(`${file}: missing "name"`);
  return doc as Record<string, unknown> & { name: string };
}

/** The document without its `name`: for resources whose name travels in the URL, not the body. */
export function withoutName(doc: Record<string, unknown>): Record<string, unknown> {
  const { name: _name, ...rest } = doc;
  return rest;
}
