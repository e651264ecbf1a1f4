import type { CloudConfig } from "../shared/config.ts";
import type { Deps } from "../shared/deps.ts";
import { cloudTriggersArea, wireTriggersArea } from "../shared/triggers/wire-triggers-area.ts";
import { registerCloudArea } from "./cloud-deps.ts";

/**
 * The triggers area in the cloud: EventBridge Scheduler, the SNS topic, the EventBridge bus and the delivery queue,
 * each when its environment variable is set, and the run listener that publishes every status change. Imported for
 * its effect by every Lambda entry whose code changes run statuses (and by the API, whose routes use the area).
 */
export function wireTriggersCloud(deps: Deps, config: CloudConfig): void {
  wireTriggersArea(deps, cloudTriggersArea(config));
}

registerCloudArea(wireTriggersCloud);
