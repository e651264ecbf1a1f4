// Builds the dashboard into dashboard/dist, which the local server serves at "/" (same origin as /api).
import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "./",
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // One small app: a single chunk keeps the first load to three requests (about 150 kB, 50 kB gzipped).
    chunkSizeWarningLimit: 250,
  },
  server: {
    // `vite dev` against a running `npm start`: the API stays same-origin through the proxy.
    proxy: {
      "/api": "http://127.0.0.1:8787",
      "/hooks": "http://127.0.0.1:8787",
    },
  },
});
