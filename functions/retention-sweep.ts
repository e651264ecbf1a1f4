import "./jobs-cloud.ts";
import "./triggers-cloud.ts";
import middy from "@middy/core";
import { sweepAllOrgs } from "../shared/use-cases/retention.ts";
import { cloudDeps } from "./cloud-deps.ts";

const deps = cloudDeps();

/** Lambda entry: the daily retention sweep (an EventBridge schedule rule). */
export const handler = middy().handler(async () => {
  deps.meter.handlerCalls++;
  const results = await sweepAllOrgs(deps);
  return { orgs: results.length, runsPurged: results.reduce((n, r) => n + r.runsPurged, 0) };
});
