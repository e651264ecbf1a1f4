import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};

// The app talks to the API with a bearer key from sessionStorage, so it must never be framed or load
// code from elsewhere: a strict CSP and no framing keep a hostile page from reading or driving it.
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/**
 * Serves the built dashboard from `distDir` for GET/HEAD requests outside /api and /hooks; `/` gets
 * index.html. Returns false for requests it does not handle, so the caller can answer them.
 */
export async function serveDashboard(req: IncomingMessage, res: ServerResponse, distDir: string): Promise<boolean> {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
  } catch {
    return false;
  }
  if (isReserved(pathname)) return false;
  // A NUL byte or backslash has no business in an asset path and can confuse path handling.
  if (pathname.includes("\0") || pathname.includes("\\")) return false;

  const root = resolve(distDir);
  const relative = pathname === "/" || pathname === "" ? "index.html" : pathname.replace(/^\/+/, "");
  const file = resolve(root, relative);
  // resolve() collapses "..", so anything outside the root is a traversal attempt.
  if (file !== root && !file.startsWith(root + sep)) return false;

  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    if (relative !== "index.html") return false;
    // Someone opened the dashboard before building it: say how, rather than a bare 404.
    res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end("The dashboard is not built. Run `npm run build:dashboard` (npm ci does it too), then reload.\n");
    return true;
  }

  const isIndex = file === resolve(root, "index.html");
  const headers: Record<string, string | number> = {
    "content-type": CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
    "content-length": info.size,
    // Vite puts a content hash in every asset name, so assets can be cached for good; index.html names
    // the current assets and must always be fetched again.
    "cache-control": relative.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    ...(isIndex ? SECURITY_HEADERS : { "x-content-type-options": "nosniff" }),
  };
  res.writeHead(200, headers);
  if (req.method === "HEAD") {
    res.end();
    return true;
  }
  await new Promise<void>((done) => {
    const stream = createReadStream(file);
    stream.on("error", () => {
      res.destroy();
      done();
    });
    stream.on("end", done);
    stream.pipe(res);
  });
  return true;
}

function isReserved(pathname: string): boolean {
  return pathname === "/api" || pathname.startsWith("/api/") || pathname === "/hooks" || pathname.startsWith("/hooks/");
}
