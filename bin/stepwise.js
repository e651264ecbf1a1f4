#!/usr/bin/env node
// Runs the CLI built into cli/dist/stepwise.mjs (npm ci builds it; npm run build:cli rebuilds it). Without the build
// it falls back to the TypeScript sources through tsx, which starts several times slower, and says so.
import { existsSync } from "node:fs";

const bundle = new URL("../cli/dist/stepwise.mjs", import.meta.url);
if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  process.stderr.write("stepwise: the CLI is not built (run npm run build:cli); running from source, slower.\n");
  const { register } = await import("tsx/esm/api");
  register();
  const { main } = await import(new URL("../cli/main.ts", import.meta.url).href);
  process.exitCode = await main(process.argv.slice(2));
}
