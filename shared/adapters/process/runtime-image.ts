import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, realpath, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

const imageCache = new Map<string, Promise<{ image: string; imageHash: string }>>();

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

/** sha256 of a binary, remembered on disk by (path, size, mtime) so a new process does not rehash ~100 MB. */
async function hashBinary(path: string, cacheDir: string): Promise<string> {
  const info = await stat(path);
  const cacheFile = join(cacheDir, "runtime-hashes.json");
  const key = `${path}:${info.size}:${info.mtimeMs}`;
  let cache: Record<string, string> = {};
  try {
    cache = JSON.parse(await readFile(cacheFile, "utf8")) as Record<string, string>;
  } catch {
    // first use
  }
  const known = cache[key];
  if (known) return known;
  const hash = await hashFile(path);
  await mkdir(cacheDir, { recursive: true });
  await writeFile(cacheFile, JSON.stringify({ ...cache, [key]: hash }));
  return hash;
}

/** The runtime that runs a kind of task and the sha256 of its binary, computed once per machine. */
export function runtimeImage(
  kind: "command" | "script",
  cacheDir: string,
): Promise<{ image: string; imageHash: string }> {
  let cached = imageCache.get(kind);
  if (!cached) {
    cached = (async () => {
      if (kind === "script")
        return { image: `node ${process.version}`, imageHash: await hashBinary(process.execPath, cacheDir) };
      const shell = await realpath("/bin/sh");
      return { image: `sh (${shell})`, imageHash: await hashBinary(shell, cacheDir) };
    })();
    cached.catch(() => imageCache.delete(kind));
    imageCache.set(kind, cached);
  }
  return cached;
}
