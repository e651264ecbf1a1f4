import { readFile } from "node:fs/promises";

/**
 * Written by the script runner into its result file when the script throws (or has no default export), so the
 * task's error names the real failure ("TypeError: x is not a function") rather than the last stderr line,
 * which for Node is its version banner.
 */
export const THROWN_KEY = "$stepwiseThrown";

/** The error a failed script recorded in its result file as "Name: message", or null when it wrote none. */
export async function thrownBy(resultFile: string): Promise<string | null> {
  try {
    const parsed = JSON.parse(await readFile(resultFile, "utf8")) as Record<string, unknown> | null;
    const thrown = parsed?.[THROWN_KEY] as { name?: unknown; message?: unknown } | undefined;
    if (!thrown || typeof thrown !== "object") return null;
    const name = typeof thrown.name === "string" && thrown.name ? thrown.name : "Error";
    const message = typeof thrown.message === "string" ? thrown.message : "";
    return message ? `${name}: ${message}` : name;
  } catch {
    return null; // no result file (killed before writing it) or not ours
  }
}

/** Lines a runtime prints around an error that say nothing about it. */
const NOISE = [
  /^Node\.js v\d+/, // the version banner Node prints after an uncaught error
  /^\s+at\s/, // stack frames
  /^\s*\^+\s*$/, // the caret under a source excerpt
  /^\(Use `node --trace-/,
  /^\s*[{}]?\s*$/, // blank lines and the braces of an error object's printed properties
];

/** The last stderr line that says something: not blank, not a stack frame, not a runtime banner. */
export function meaningfulStderrLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.replace(/\r$/, ""));
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    if (!NOISE.some((re) => re.test(line))) return line.trim();
  }
  return "";
}
