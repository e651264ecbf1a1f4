import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveDashboard } from "../../local/dashboard-static.ts";

let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stepwise-dist-"));
  await mkdir(join(dir, "dist", "assets"), { recursive: true });
  await writeFile(join(dir, "dist", "index.html"), "<!doctype html><title>Stepwise</title>");
  await writeFile(join(dir, "dist", "assets", "app-1234.js"), "console.log(1)");
  await writeFile(join(dir, "dist", "assets", "app-1234.css"), "body{}");
  await writeFile(join(dir, "secret.txt"), "outside the dist folder");
  server = createServer(async (req, res) => {
    const distDir = req.headers["x-dist"] === "missing" ? join(dir, "nope") : join(dir, "dist");
    if (await serveDashboard(req, res, distDir)) return;
    res.writeHead(418).end("not handled");
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
  await rm(dir, { recursive: true, force: true });
});

// fetch() normalises "..", so raw paths go through http.request.
function get(path: string, method = "GET", headers: Record<string, string> = {}) {
  return new Promise<{ status: number; type: string; body: string; headers: Record<string, unknown> }>((done, fail) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () =>
        done({
          status: res.statusCode ?? 0,
          type: String(res.headers["content-type"] ?? ""),
          body,
          headers: res.headers,
        }),
      );
    });
    req.on("error", fail);
    req.end();
  });
}

describe("serveDashboard", () => {
  it("serves index.html at / with a strict content security policy", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.type).toBe("text/html; charset=utf-8");
    expect(res.body).toContain("<title>Stepwise</title>");
    expect(String(res.headers["content-security-policy"])).toContain("frame-ancestors 'none'");
    expect(res.headers["cache-control"]).toBe("no-cache");
  });

  it("serves hashed assets with their content type, cached for good", async () => {
    const js = await get("/assets/app-1234.js");
    expect(js).toMatchObject({ status: 200, type: "text/javascript; charset=utf-8", body: "console.log(1)" });
    expect(js.headers["cache-control"]).toContain("immutable");
    expect((await get("/assets/app-1234.css")).type).toBe("text/css; charset=utf-8");
  });

  it("answers HEAD without a body", async () => {
    const res = await get("/", "HEAD");
    expect(res.status).toBe(200);
    expect(res.body).toBe("");
  });

  it("leaves /api, /hooks, other methods and unknown files to the caller", async () => {
    for (const path of ["/api/health", "/api", "/hooks/wh_1", "/nothing-here.js"]) {
      expect((await get(path)).status, path).toBe(418);
    }
    expect((await get("/", "POST")).status).toBe(418);
  });

  it("never serves a file outside the dist folder", async () => {
    for (const path of [
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "/%00",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(418);
      expect(res.body).not.toContain("outside the dist folder");
    }
  });

  it("explains how to build the dashboard when it is missing", async () => {
    const res = await get("/", "GET", { "x-dist": "missing" });
    expect(res.status).toBe(503);
    expect(res.body).toContain("npm run build:dashboard");
  });
});
