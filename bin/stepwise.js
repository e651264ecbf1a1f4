#!/usr/bin/env node
// The CLI is TypeScript run through tsx; this shim registers the loader and hands over to cli/main.ts.
import { register } from "tsx/esm/api";

register();
const { main } = await import(new URL("../cli/main.ts", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
