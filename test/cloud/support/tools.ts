// The Python tools of the cloud suite (moto_server, cfn-lint), installed with pyenv on these machines. In CI a missing
// tool fails the suite: a skipped cloud suite would pass a build that proved nothing about the cloud.
import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

/** Where pyenv puts its shims, searched after PATH (a non-login shell may not have them on PATH). */
const EXTRA_DIRS = [join(homedir(), ".pyenv", "shims"), "/root/.pyenv/shims"];

/** The absolute path of an executable on PATH or in the pyenv shims, or null. */
export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), ...EXTRA_DIRS].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The tool's path; null (the suite skips) only outside CI. With CI=true a missing tool throws, so the suite fails
 * loudly instead of skipping.
 */
export function requireTool(name: string): string | null {
  const found = findTool(name);
  if (!found && process.env.CI === "true") {
    throw new Error(
      `${name} is not installed (looked on PATH and in ${EXTRA_DIRS[0]}); the cloud suite needs it in CI`,
    );
  }
  if (!found) console.warn(`${name} is not installed: the suite that needs it is skipped (it fails with CI=true)`);
  return found;
}
