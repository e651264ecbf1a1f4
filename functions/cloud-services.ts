import { cloudAdapters } from "../shared/adapters/cloud-adapters.ts";
import { type CloudFunction, loadConfig } from "../shared/config.ts";
import { consoleLogger } from "../shared/ports/logger.ts";
import { createServices, type Services } from "../shared/services.ts";

let cached: Services | null = null;

/**
 * The cloud's composition root: the function's environment, validated against its own schema at cold start (a
 * missing setting fails there, not in a request), the AWS adapters built from it, and the use cases on top.
 */
export function cloudServices(fn: CloudFunction): Services {
  cached ??= createServices(cloudAdapters(loadConfig(fn), consoleLogger));
  return cached;
}
