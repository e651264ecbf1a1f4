// The bundle's entry: runs the CLI with the process's arguments (bin/stepwise.js imports the built bundle).
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
