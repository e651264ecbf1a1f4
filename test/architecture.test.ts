// Rules of the layout that a linter cannot state: the environment is read only by the config modules (each cloud
// function's schema), so a setting can never be read past validation. (Biome's noProcessEnv says the same for code;
// this also catches it in generated source. The SDK-only-in-adapters rule is Biome's noRestrictedImports; import
// cycles are madge's, both in `npm run lint`.)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The config modules, and the runner a script task runs in (the task's own process reads its own env). */
const MAY_READ_ENV = ["shared/config.ts", "cli/config.ts", "shared/adapters/process/run-process.ts"];

describe("the layout", () => {
  it("reads process.env only in the config modules", () => {
    const files = ["shared", "functions", "local", "cli"].flatMap(sources);
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.filter(
      (f) => !MAY_READ_ENV.includes(f) && readFileSync(join(ROOT, f), "utf8").includes("process.env"),
    );
    expect(offenders.map((f) => relative(ROOT, join(ROOT, f)))).toEqual([]);
  });
});
