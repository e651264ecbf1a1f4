import { resolve } from "node:path";
import { loadConfig } from "../shared/config.ts";
import { startEmbedded } from "./embedded.ts";

// `npm start`: the whole service on this machine, no AWS account.
const config = loadConfig("local");
const stack = await startEmbedded({
  dataDir: config.STEPWISE_DATA_DIR,
  port: config.STEPWISE_PORT,
  host: config.STEPWISE_HOST,
  apiKey: config.STEPWISE_API_KEY,
  examplesDir: resolve(config.STEPWISE_EXAMPLES_DIR),
  emulatorTransport: config.STEPWISE_EMULATOR_TRANSPORT,
  taskSpawn: config.STEPWISE_TASK_SPAWN,
  log: (line) => console.log(line),
});
console.log(`Stepwise listening on ${stack.url}  (dashboard: ${stack.url}/, API: ${stack.url}/api)`);
const keyFile = resolve(config.STEPWISE_DATA_DIR, "local.json");
if (stack.apiKeyGenerated) {
  // Shown this once; later starts point at the file instead.
  console.log(`API key (admin of org "default"): ${stack.apiKey}`);
  console.log(`  saved in ${keyFile}, where the CLI finds it`);
} else if (!config.STEPWISE_API_KEY) {
  console.log(`API key: the one in ${keyFile} (the CLI finds it there)`);
}
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void stack.stop().then(() => process.exit(0));
  });
}
