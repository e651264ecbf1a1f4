import { access, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CliError } from "./errors.ts";

/** What the CLI takes from its environment. */
export interface CliEnv {
  url?: string;
  apiKey?: string;
  dataDir?: string;
  noColor: boolean;
}

/** The CLI's only reader of process.env. */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const nonEmpty = (v: string | undefined) => (v && v.trim() !== "" ? v.trim() : undefined);
  return {
    url: nonEmpty(env.STEPWISE_URL),
    apiKey: nonEmpty(env.STEPWISE_API_KEY),
    dataDir: nonEmpty(env.STEPWISE_DATA_DIR),
    // no-color.org: present and not empty disables colour.
    noColor: (env.NO_COLOR ?? "") !== "",
  };
}

export interface ServerConfig {
  url: string;
  apiKey: string;
}

const HINT = "start the server with npm start, or set STEPWISE_URL and STEPWISE_API_KEY";

/**
 * Finds the server and key: STEPWISE_URL and STEPWISE_API_KEY win; whatever they leave open comes from
 * `<STEPWISE_DATA_DIR>/local.json`, else the nearest `.stepwise/local.json` up from the working directory (the
 * file the local server writes when it starts).
 */
export async function resolveServer(env: CliEnv, cwd: string): Promise<ServerConfig> {
  let url = env.url;
  let apiKey = env.apiKey;
  if (url === undefined || apiKey === undefined) {
    const file = env.dataDir ? resolve(cwd, env.dataDir, "local.json") : await findLocalFile(cwd);
    const local = await readLocalFile(file);
    url ??= local?.url;
    apiKey ??= local?.apiKey;
    if (url === undefined || apiKey === undefined) {
      const missing = [url === undefined ? "server URL" : null, apiKey === undefined ? "API key" : null]
        .filter(Boolean)
        .join(" and ");
      throw new CliError(`no ${missing} found: ${HINT}`, local ? [`${file} does not name them`] : []);
    }
  }
  try {
    new URL(url);
  } catch {
    throw new CliError(`STEPWISE_URL is not a valid URL: '${url}'`);
  }
  return { url: url.replace(/\/+$/, ""), apiKey };
}

/**
 * The nearest `.stepwise/local.json` from `cwd` up to the filesystem root, so the CLI works from any folder of the
 * checkout; when there is none, the one `cwd` would have (named in the error).
 */
async function findLocalFile(cwd: string): Promise<string> {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, ".stepwise", "local.json");
    if (await exists(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return resolve(cwd, ".stepwise", "local.json");
    dir = parent;
  }
}

const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

async function readLocalFile(file: string): Promise<{ url?: string; apiKey?: string } | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON: ${HINT}`);
  }
  if (parsed === null || typeof parsed !== "object") return {};
  const { url, apiKey } = parsed as Record<string, unknown>;
  return {
    url: typeof url === "string" && url !== "" ? url : undefined,
    apiKey: typeof apiKey === "string" && apiKey !== "" ? apiKey : undefined,
  };
}
