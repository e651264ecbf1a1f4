import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ApiError } from "./api-client.ts";
import type { JsonOption } from "./commands/options.ts";
import { resolveServer } from "./config.ts";
import type { Context } from "./context.ts";
import { CliError } from "./errors.ts";

const seg = encodeURIComponent;

/** An export's status as `GET /api/runs/{runId}/exports/{exportId}` answers it. */
interface ExportStatus {
  exportId: string;
  status: "pending" | "building" | "ready" | "failed";
  size: number | null;
  root: string | null;
  error: string | null;
  url: string | null;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (e?.message) return new ApiError(res.status, e.code ?? `http_${res.status}`, e.message);
  } catch {
    // not the contract's JSON
  }
  return new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status} ${res.statusText}`.trim());
}

/** Writes a response body to `target` through a `.partial` file, so a broken download leaves no bundle behind. */
async function save(res: Response, target: string, output: string): Promise<number> {
  if (!res.ok || !res.body) throw await errorFrom(res);
  const partial = `${target}.partial`;
  try {
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(partial));
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw new CliError(`cannot write ${output}: ${(err as Error).message}`);
  }
  return (await stat(target)).size;
}

/**
 * `runs export`: asks the server to build the run's evidence bundle (POST …/exports), waits for it showing its
 * progress, then downloads it, from storage by the presigned URL when there is one (the API key never goes there).
 */
export async function exportBundle(
  ctx: Context,
  runId: string,
  output: string,
  opts: JsonOption & { timeout: string },
): Promise<void> {
  const client = await ctx.client();
  const server = await resolveServer(ctx.io.env, ctx.io.cwd);
  const doFetch = ctx.io.fetch ?? fetch;
  const base = `/api/runs/${seg(runId)}/exports`;
  const started = (await client.request<ExportStatus>("POST", base)).body;
  const path = `${base}/${seg(started.exportId)}`;
  const t0 = ctx.io.now();
  const deadline = t0 + Number(opts.timeout) * 1000;
  let status = started;
  let shown = "";
  while (status.status === "pending" || status.status === "building") {
    if (ctx.io.now() > deadline)
      throw new CliError(`export ${started.exportId} is still ${status.status} after ${opts.timeout} s`, [
        `check it later: GET ${path}`,
      ]);
    await ctx.io.sleep(ctx.io.pollMs);
    status = (await client.request<ExportStatus>("GET", path)).body;
    const line = `export ${started.exportId}: ${status.status} (${Math.round((ctx.io.now() - t0) / 1000)} s)`;
    if (!opts.json && line !== shown) ctx.note(line);
    shown = line;
  }
  if (status.status === "failed")
    throw new CliError(`export ${started.exportId} failed: ${status.error ?? "unknown error"}`);
  let res: Response;
  try {
    res = status.url
      ? await doFetch(status.url)
      : await doFetch(`${server.url}${path}/bundle`, {
          headers: { authorization: `Bearer ${server.apiKey}` },
          redirect: "manual",
        });
    if (res.status === 302) {
      const location = res.headers.get("location");
      if (!location) throw new CliError("the server redirected the download without a location");
      res = await doFetch(location);
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot download the bundle (${(err as Error).message})`);
  }
  const target = resolve(ctx.io.cwd, output);
  const bytes = await save(res, target, output);
  const root = status.root;
  if (opts.json) ctx.json({ runId, exportId: started.exportId, file: target, bytes, root });
  else {
    ctx.print(`exported ${runId} to ${output} (${formatBytes(bytes)})${root ? `, root ${root}` : ""}`);
    ctx.note(`check it with no server: stepwise verify ${output}`);
  }
}
