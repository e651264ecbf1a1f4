import { stoppedStepwiseTask } from "../shared/adapters/ecs/ecs-task-driver.ts";
import type { Deps } from "../shared/deps.ts";
import { completeExternalTask } from "../shared/engine/complete-task.ts";
import { cloudServices } from "./cloud-services.ts";
import { type HandlerTelemetry, noTelemetry } from "./telemetry.ts";

type StoppedEvent = Parameters<typeof stoppedStepwiseTask>[0];

/**
 * The EventBridge target of "ECS Task State Change" STOPPED: turns the stopped task into the attempt's outcome and
 * wakes its run (the same completion path a podman container's exit takes locally). Anything else is ignored.
 */
export function makeContainerStoppedHandler(deps: Deps, telemetry: HandlerTelemetry = noTelemetry) {
  return telemetry
    .chain<StoppedEvent, { recorded: boolean }>(() => ({}))
    .handler(async (event) => {
      deps.meter.handlerCalls++;
      const stopped = stoppedStepwiseTask(event);
      if (!stopped) return { recorded: false };
      const { orgId, runId, nodeId } = stopped.attempt;
      telemetry.tag({ orgId, runId });
      return completeExternalTask(deps, { orgId, runId, nodeId, ref: stopped.view.taskArn }, stopped.view);
    });
}

const services = cloudServices("containerStopped");
export const handler = makeContainerStoppedHandler(services.deps, services.telemetry);
