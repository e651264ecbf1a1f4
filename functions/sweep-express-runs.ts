import { sweepDeadExpressRuns } from "../shared/runs/express-sweep.ts";
import { cloudServices } from "./cloud-services.ts";

const services = cloudServices("sweepExpressRuns");

/** Lambda entry: every 5 minutes, reconciles Express runs whose execution died (Express sends no status events). */
export const handler = services.telemetry.chain().handler(async () => {
  services.deps.meter.handlerCalls++;
  return sweepDeadExpressRuns(services.deps);
});
