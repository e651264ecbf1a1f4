import { cloudServices } from "./cloud-services.ts";

const services = cloudServices("retentionSweep");

/** Lambda entry: the daily retention sweep (an EventBridge schedule rule). */
export const handler = services.telemetry.chain().handler(async () => {
  services.deps.meter.handlerCalls++;
  const results = await services.retention.sweepAllOrgs();
  return { orgs: results.length, runsPurged: results.reduce((n, r) => n + r.runsPurged, 0) };
});
