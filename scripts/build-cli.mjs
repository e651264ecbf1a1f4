// Builds the CLI into one ES module (cli/dist/stepwise.mjs) with esbuild, so `stepwise` starts as plain JavaScript
// instead of compiling TypeScript through tsx at every call; and receiver.ts into cli/dist/receiver.mjs, the package's
// `stepwise/receiver` export (for receivers of event deliveries). Run by `npm run build:cli`, by `npm ci` (prepare.mjs)
// and once before the tests (test/support/build-cli.ts).
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const OUT_DIR = fileURLToPath(new URL("../cli/dist", import.meta.url));
/** The bundle bin/stepwise.js loads (with chunks it loads on use: the offline verifier, the YAML parser). */
export const CLI_BUNDLE = `${OUT_DIR}/stepwise.mjs`;

/** Builds the bundle; false (with a note) when esbuild is not installed (a production install). */
export async function buildCli() {
  try {
    createRequire(import.meta.url).resolve("esbuild");
  } catch {
    console.warn("stepwise: esbuild is not installed (production install?); the CLI runs from source through tsx.");
    return false;
  }
  const { build } = await import("esbuild");
  const { rm } = await import("node:fs/promises");
  await rm(OUT_DIR, { recursive: true, force: true });
  await build({
    entryPoints: {
      stepwise: fileURLToPath(new URL("../cli/entry.ts", import.meta.url)),
      receiver: fileURLToPath(new URL("../receiver.ts", import.meta.url)),
    },
    outdir: OUT_DIR,
    entryNames: "[name]",
    chunkNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minifySyntax: true,
    legalComments: "none",
    logLevel: "warning",
    // Bundled CommonJS packages (commander) require Node's built-ins; an ES module has no `require` of its own.
    banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
  });
  return true;
}

/** vitest's global setup: the tests run the CLI as users do, from the bundle built from the current sources. */
export async function setup() {
  if (!(await buildCli())) throw new Error("the CLI tests need esbuild to build the CLI");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (await buildCli()) console.log(`built ${CLI_BUNDLE}`);
}
