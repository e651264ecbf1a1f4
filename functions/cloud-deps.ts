import { makeDocumentClient, makeS3Client } from "../shared/adapters/aws-clients.ts";
import { DynamoRunStore } from "../shared/adapters/dynamo-run-store.ts";
import { KmsSecretBox } from "../shared/adapters/kms-secret-box.ts";
import { processExecutors } from "../shared/adapters/process/process-executor.ts";
import { S3BlobStore } from "../shared/adapters/s3-blob-store.ts";
import { SfnOrchestrator } from "../shared/adapters/sfn-orchestrator.ts";
import { type CloudConfig, ENGINE_VERSION, loadConfig } from "../shared/config.ts";
import type { Deps } from "../shared/deps.ts";
import { systemClock } from "../shared/domain/clock.ts";
import { isTerminalRun } from "../shared/domain/records.ts";
import { wireEvidence } from "../shared/evidence/evidence-service.ts";
import { deleteRunSecrets } from "../shared/human-steps/secrets.ts";
import { cursorSigningKey } from "../shared/kernel/signed-cursor.ts";
import { CostMeter } from "../shared/ports/metrics.ts";
import { concurrencyListener } from "../shared/runs/concurrency.ts";

/** Area wiring that only exists in the cloud (publishers, schedulers), added by each area. */
export type CloudAreaWiring = (deps: Deps, config: CloudConfig) => void;
const cloudAreas: CloudAreaWiring[] = [];

/** Registers an area's cloud wiring; called at module load by the handlers that need it. */
export function registerCloudArea(wire: CloudAreaWiring): void {
  cloudAreas.push(wire);
}

let cached: Deps | null = null;

/** The dependencies of every Lambda, wired once per container from the validated environment. */
export function cloudDeps(): Deps {
  if (cached) return cached;
  const config = loadConfig("cloud");
  if (!config.RUN_STATE_MACHINE_ARN) throw new Error("invalid environment: RUN_STATE_MACHINE_ARN is required");
  const meter = new CostMeter();
  const deps: Deps = {
    store: new DynamoRunStore(
      makeDocumentClient({}, meter),
      config.TABLE_NAME,
      // Without a platform key the table name still binds cursors to this deployment (and the MAC to org and list).
      cursorSigningKey(config.CURSOR_SECRET ?? config.PLATFORM_KEY_HASH ?? config.TABLE_NAME),
    ),
    blobs: new S3BlobStore(makeS3Client({}, meter), config.BUCKET_NAME),
    orchestrator: SfnOrchestrator.create(config.RUN_STATE_MACHINE_ARN),
    clock: systemClock,
    meter,
    executors: processExecutors(config.TASK_WORK_DIR, systemClock),
    runListeners: [],
    areas: {},
    secrets: config.SECRETS_KMS_KEY_ID ? KmsSecretBox.create(config.SECRETS_KMS_KEY_ID) : undefined,
    settings: {
      engineVersion: ENGINE_VERSION,
      workRoot: config.TASK_WORK_DIR,
      platformKeyHash: config.PLATFORM_KEY_HASH ?? null,
      // Lambda stops at 15 minutes: stop starting nodes with room to record them.
      advanceBudgetMs: 13 * 60_000,
      cancelPollMs: 1000,
      maxHumanWaitSeconds: 365 * 86400,
    },
  };
  deps.runListeners.push(async (run) => {
    if (isTerminalRun(run.status)) await deleteRunSecrets(deps, run.orgId, run.runId);
  });
  deps.runListeners.push(concurrencyListener(deps)); // frees a concurrency slot on every terminal transition
  wireEvidence(deps); // run files and the sealed root: evidence is always on
  for (const wire of cloudAreas) wire(deps, config);
  cached = deps;
  return deps;
}
