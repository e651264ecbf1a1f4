/**
 * The composition root's one factory: from a runtime's adapters (the cloud's, built from loadConfig(); the
 * embedded mode's, built from the emulators) to the use cases. It lists the run-event subscribers once, in order,
 * and plugs the evidence layer into the engine; nothing registers itself by being imported.
 */
import type { Deps, Settings } from "./deps.ts";
import type { Clock } from "./domain/clock.ts";
import { isTerminalRun } from "./domain/records.ts";
import { advanceRun } from "./engine/advance-run.ts";
import { completeExternalTask } from "./engine/complete-task.ts";
import { continueIfDue } from "./engine/continue-as-new.ts";
import { buildExport } from "./evidence/export-jobs.ts";
import { inProcessExportWorker } from "./evidence/in-process-export-worker.ts";
import { rootAtEnd } from "./evidence/manifest.ts";
import { makeFileHooks } from "./evidence/run-files.ts";
import { deleteRunSecrets } from "./human-steps/secrets.ts";
import {
  onWorkflowRunChange,
  reconcileJobRunExecution,
  recordJobRunFailure,
  runNextWorkflow,
} from "./jobs/job-run-engine.ts";
import type { BlobStore } from "./ports/blob-store.ts";
import type { ExportWorker } from "./ports/export-worker.ts";
import type { JobRunOrchestrator } from "./ports/job-run-orchestrator.ts";
import type { Logger } from "./ports/logger.ts";
import type { CostMeter } from "./ports/metrics.ts";
import type { Orchestrator } from "./ports/orchestrator.ts";
import type { Repositories } from "./ports/repositories.ts";
import { type RunEventSubscriber, RunEvents } from "./ports/run-events.ts";
import type { RunStore } from "./ports/run-store.ts";
import type { SecretBox } from "./ports/secret-box.ts";
import type { TaskExecutors } from "./ports/task-executor.ts";
import type { DeliveryQueue, EventPublisher, Scheduler, TriggerOptions } from "./ports/triggers.ts";
import { sweepAllOrgs } from "./retention/retention.ts";
import { concurrencyListener } from "./runs/concurrency.ts";
import { awaitHuman, reconcileExecution, recordFailure } from "./runs/state-machine-tasks.ts";
import { processDelivery } from "./triggers/delivery.ts";
import { sweepUnsentDeliveries } from "./triggers/delivery-sweep.ts";
import { makeJobRunListener, makeRunListener } from "./triggers/publish.ts";
import { fireSchedule } from "./triggers/schedule-firing.ts";

/** Everything a runtime supplies: one adapter per port, its clock, meter and logger, and its settings. */
export interface Adapters {
  store: RunStore;
  repos: Repositories;
  blobs: BlobStore;
  runOrchestrator: Orchestrator;
  jobOrchestrator: JobRunOrchestrator;
  scheduler: Scheduler;
  publishers: EventPublisher[];
  deliveryQueue: DeliveryQueue;
  /** Seals human-input secrets; null where the function holds no key. */
  secretBox: SecretBox | null;
  executors: TaskExecutors;
  /** Where evidence bundles are built; absent: in this process, after the request has been answered. */
  exportWorker?: ExportWorker;
  clock: Clock;
  meter: CostMeter;
  logger: Logger;
  settings: Settings;
  triggerOptions: TriggerOptions;
  /** Aborted when the process shuts down (embedded): attempts in flight stop unrecorded, to resume on restart. */
  stopping?: AbortSignal;
  /** Subscribers after the built-in ones (tests that watch every status change). */
  extraSubscribers?: RunEventSubscriber[];
}

type Tail<F> = F extends (deps: Deps, ...rest: infer R) => infer O ? (...rest: R) => O : never;

/** Binds a use case to the runtime's deps. */
const bind = <F extends (deps: Deps, ...rest: never[]) => unknown>(deps: Deps, fn: F): Tail<F> =>
  ((...rest: never[]) => fn(deps, ...rest)) as Tail<F>;

/** What the composition root returns: the runtime's deps (for the HTTP routes) and its use cases, bound. */
export function createServices(adapters: Adapters) {
  // The hooks keep per-attempt state, so one instance; made on first use, once `deps` exists.
  let hooks: ReturnType<typeof makeFileHooks> | null = null;
  const fileHooks = () => {
    hooks ??= makeFileHooks(deps);
    return hooks;
  };
  const deps: Deps = {
    store: adapters.store,
    repos: adapters.repos,
    blobs: adapters.blobs,
    orchestrator: adapters.runOrchestrator,
    jobOrchestrator: adapters.jobOrchestrator,
    clock: adapters.clock,
    meter: adapters.meter,
    logger: adapters.logger,
    executors: adapters.executors,
    exportWorker: adapters.exportWorker ?? inProcessExportWorker((job) => buildExport(deps, job), adapters.logger),
    secrets: adapters.secretBox ?? undefined,
    triggers: {
      scheduler: adapters.scheduler,
      publishers: adapters.publishers,
      deliveryQueue: adapters.deliveryQueue,
      options: adapters.triggerOptions,
    },
    stopping: adapters.stopping,
    settings: adapters.settings,
    // Run files in and out of tasks, and the evidence root sealed by a run's terminal write.
    files: {
      prepareInputs: (...a) => fileHooks().prepareInputs(...a),
      collectOutputs: (...a) => fileHooks().collectOutputs(...a),
      inputsOf: (...a) => fileHooks().inputsOf(...a),
      rootOf: rootAtEnd,
    },
    // In this order: a run's secrets go first, then its concurrency slot is handed on, then job runs move along, then the world is told.
    events: new RunEvents(
      [
        {
          name: "run-secrets",
          onRunChange: async (run) => {
            if (isTerminalRun(run.status)) await deleteRunSecrets(deps, run.orgId, run.runId);
          },
        },
        // A terminal run frees its concurrency slot (whoever recorded the end: engine, cancel, reconcile).
        { name: "concurrency", onRunChange: (run, from) => concurrencyListener(deps)(run, from) },
        { name: "jobs", onRunChange: (run, from) => onWorkflowRunChange(deps, run, from) },
        {
          name: "notifications",
          onRunChange: (run, from) => makeRunListener(deps)(run, from),
          onJobRunChange: (jobRun, from) => makeJobRunListener(deps)(jobRun, from),
        },
        ...(adapters.extraSubscribers ?? []),
      ],
      adapters.logger,
    ),
  };
  return {
    deps,
    runs: {
      advance: bind(deps, advanceRun),
      continueIfDue: bind(deps, continueIfDue),
      awaitHuman: bind(deps, awaitHuman),
      recordFailure: bind(deps, recordFailure),
      reconcile: bind(deps, reconcileExecution),
      completeTask: bind(deps, completeExternalTask),
    },
    jobRuns: {
      runNext: bind(deps, runNextWorkflow),
      recordFailure: bind(deps, recordJobRunFailure),
      reconcile: bind(deps, reconcileJobRunExecution),
    },
    triggers: {
      fireSchedule: bind(deps, fireSchedule),
      processDelivery: bind(deps, processDelivery),
      sweepUnsentDeliveries: bind(deps, sweepUnsentDeliveries),
    },
    retention: { sweepAllOrgs: bind(deps, sweepAllOrgs) },
    evidence: { buildExport: bind(deps, buildExport) },
  };
}

export type Services = ReturnType<typeof createServices>;
