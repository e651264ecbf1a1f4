import "./jobs-cloud.ts";
import "./triggers-cloud.ts";
import middy from "@middy/core";
import { sweepDeadExpressRuns } from "../shared/use-cases/express-sweep.ts";
import { cloudDeps } from "./cloud-deps.ts";

const deps = cloudDeps();

/** Lambda entry: every 5 minutes, reconciles Express runs whose execution died (Express sends no status events). */
export const handler = middy().handler(async () => {
  deps.meter.handlerCalls++;
  return sweepDeadExpressRuns(deps);
});
