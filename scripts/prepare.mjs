// `npm ci` runs this: it builds the CLI (bin/stepwise.js runs the bundle) and the dashboard the server serves at `/`.
// A production install (`npm ci --omit=dev`) has neither esbuild nor Vite: both builds are skipped, the CLI runs from
// source through tsx, and the server says how to build when `/` is asked for.
import { createRequire } from "node:module";
import { buildCli } from "./build-cli.mjs";

await buildCli();
try {
  createRequire(import.meta.url).resolve("vite");
} catch {
  console.warn("stepwise: Vite is not installed (production install?); the dashboard build is skipped.");
  process.exit(0);
}
const { build } = await import("vite");
await build({ configFile: new URL("../dashboard/vite.config.ts", import.meta.url).pathname, logLevel: "warn" });
