import { registerCloudArea } from "./cloud-deps.ts";
import { wireJobsCloud } from "./job-handlers.ts";

/**
 * The jobs area in the cloud, registered for every Lambda: its run listener completes a job run's wait when one of
 * its workflow runs ends, wherever that run's status changes. Imported for its effect by every Lambda entry.
 */
registerCloudArea(wireJobsCloud);
