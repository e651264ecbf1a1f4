import { cloudAdapters } from "../shared/adapters/cloud-adapters.ts";
import { clientCapture, loggerPort, makePowertools } from "../shared/adapters/powertools.ts";
import { type CloudFunction, loadConfig } from "../shared/config.ts";
import { createServices, type Services } from "../shared/services.ts";
import { powertoolsTelemetry } from "./powertools-telemetry.ts";
import type { HandlerTelemetry } from "./telemetry.ts";

/** A cloud function's use cases and the telemetry its handler runs in. */
export type CloudServices = Services & { telemetry: HandlerTelemetry };

let cached: CloudServices | null = null;

/**
 * The cloud's composition root: the function's environment, validated against its own schema at cold start (a
 * missing setting fails there, not in a request), Powertools named from it, the AWS adapters built from it (logging
 * through Powertools, SDK clients traced), and the use cases on top.
 */
export function cloudServices(fn: CloudFunction): CloudServices {
  if (cached) return cached;
  const config = loadConfig(fn);
  const pt = makePowertools(config);
  const services = createServices(
    cloudAdapters(config, { logger: loggerPort(pt.logger), capture: clientCapture(pt.tracer) }),
  );
  cached = { ...services, telemetry: powertoolsTelemetry(pt, services.deps.meter) };
  return cached;
}
