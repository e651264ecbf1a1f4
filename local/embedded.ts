import "../shared/polyfills.ts";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Context } from "aws-lambda";
import { parse as parseYaml } from "yaml";
import {
  makeAdvanceHandler,
  makeAwaitHumanHandler,
  makeReconcileHandler,
  makeRecordFailureHandler,
} from "../functions/engine-handlers.ts";
import { makeApiHandler } from "../functions/http/api-handler.ts";
import { DEFAULT_ORG, generateKey, PLATFORM_PRINCIPAL } from "../shared/access/auth.ts";
import {
  type InstrumentableClient,
  instrumentable,
  makeDocumentClient,
  makeS3Client,
} from "../shared/adapters/aws-clients.ts";
import { dynamoDurableList } from "../shared/adapters/dynamo/dynamo-durable-list.ts";
import { dynamoRepositories } from "../shared/adapters/dynamo/dynamo-repositories.ts";
import { LOCAL_DELIVERY_QUEUE_PK, LOCAL_SCHEDULER_PK } from "../shared/adapters/dynamo/keys.ts";
import { DynamoRunStore } from "../shared/adapters/dynamo/run-store.ts";
import { LocalOrchestrator } from "../shared/adapters/embedded/local-orchestrator.ts";
import { LocalStateMachine } from "../shared/adapters/embedded/local-step-functions.ts";
import { ensureBucket, ensureTable } from "../shared/adapters/emulator-setup.ts";
import { runtimeImage } from "../shared/adapters/process/runtime-image.ts";
import type { TaskSpawn } from "../shared/adapters/process/task-spawner.ts";
import { S3BlobStore } from "../shared/adapters/s3-blob-store.ts";
import { ENGINE_VERSION, type LocalExecutorSettings } from "../shared/config.ts";
import type { Deps } from "../shared/deps.ts";
import { type Clock, systemClock } from "../shared/domain/clock.ts";
import { sha256 } from "../shared/domain/hash.ts";
import { completeExternalTask } from "../shared/engine/complete-task.ts";
import { inProcessExportWorker } from "../shared/evidence/in-process-export-worker.ts";
import { LocalSecretBox } from "../shared/human-steps/secrets.ts";
import { cursorSigningKey } from "../shared/kernel/signed-cursor.ts";
import type { ExportJob } from "../shared/ports/export-worker.ts";
import { CostMeter } from "../shared/ports/metrics.ts";
import type { RunEventSubscriber } from "../shared/ports/run-events.ts";
import { sweepAllOrgs } from "../shared/retention/retention.ts";
import { resumeQueues } from "../shared/runs/concurrency.ts";
import { createServices, type Services } from "../shared/services.ts";
import { buildRunStateMachine, STATE } from "../shared/state-machine/run-state-machine.ts";
import { putWorkflow } from "../shared/workflows/workflows.ts";
import { readBody, toApiGatewayEvent } from "./api-gateway-event.ts";
import { type EmulatorTransport, startEmulators } from "./emulator-transport.ts";
import { lambdaContext } from "./lambda-context.ts";
import { Late } from "./late.ts";
import { localExecutors } from "./local-executors.ts";
import { type LocalCall, loadExampleJobs, localJobMachine } from "./local-jobs.ts";
import { localSecretsKey } from "./local-secrets.ts";
import { localTriggerAdapters } from "./local-triggers.ts";
import { readableLogger, requestLine, statusLines } from "./readable-log.ts";

const TABLE = "stepwise";
const BUCKET = "stepwise";
/** Node's timers overflow past ~24.8 days; human waits longer than this are re-armed by Advance. */
const LOCAL_MAX_TIMER_SECONDS = 20 * 86400;

export interface EmbeddedOptions {
  dataDir: string;
  port?: number;
  host?: string;
  /** The platform key; without it one is generated once and kept in <dataDir>/local.json. */
  apiKey?: string;
  /** Folder of example workflows to load; null for none. */
  examplesDir?: string | null;
  /** Run this ASL instead of the built one (the infra test passes the synthesized definition). */
  stateMachineDefinition?: Record<string, unknown>;
  /** How containers run here (default: from the environment: STEPWISE_CONTAINER_RUNTIME, PATH, CONTAINERS_CONF…). */
  containers?: LocalExecutorSettings;
  clock?: Clock;
  /** Overrides of engine settings (tests use short polls). */
  settings?: Partial<Deps["settings"]>;
  log?: (line: string) => void;
  /** Run-event subscribers after the built-in ones (tests that watch every status change). */
  subscribers?: RunEventSubscriber[];
  /** How the SDK clients reach the emulators: "in-process" (default) or "tcp" (local/emulator-transport.ts). */
  emulatorTransport?: EmulatorTransport;
  /** How command and script tasks are spawned: "helper" (default, a small spawner process) or "direct". */
  taskSpawn?: TaskSpawn;
}

export interface EmbeddedStack {
  url: string;
  apiKey: string;
  /** True when this start generated the key (none was given or saved): it is shown once, then only saved. */
  apiKeyGenerated: boolean;
  deps: Deps;
  /** The use cases of this stack, as the cloud's handlers call them. */
  services: Services;
  orchestrator: LocalOrchestrator;
  /** The run store's DynamoDB client and the blob store's S3 client, for the benchmark's counters and profiler. */
  sdkClients: { dynamodb: InstrumentableClient; s3: InstrumentableClient };
  /** Stops the HTTP server and the emulators; runs that are not finished resume on the next start. */
  stop(): Promise<void>;
}

async function readLocalKey(dataDir: string): Promise<string | null> {
  try {
    const saved = JSON.parse(await readFile(join(dataDir, "local.json"), "utf8")) as { apiKey?: string };
    return saved.apiKey ?? null;
  } catch {
    return null;
  }
}

/** Loads the workflow definitions of a folder (JSON or YAML with `nodes`) whose names do not exist yet. */
export async function loadExamples(deps: Deps, dir: string, log: (s: string) => void): Promise<void> {
  if (!existsSync(dir)) return;
  const admin = PLATFORM_PRINCIPAL;
  for (const file of (await readdir(dir)).sort()) {
    if (!/\.(json|ya?ml)$/.test(file)) continue;
    const text = await readFile(join(dir, file), "utf8");
    const doc = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    if (!doc || !Array.isArray(doc.nodes)) continue;
    try {
      // An example is a starting point: once a workflow of that name exists (edited, or archived), it is the user's.
      const existing = typeof doc.name === "string" ? await deps.repos.workflows.get(admin.orgId, doc.name) : null;
      if (existing) {
        log(`  workflow ${doc.name} v${existing.version} (kept; the example is not applied over it)`);
        continue;
      }
      const res = await putWorkflow(deps, admin, doc.name, doc);
      log(`  workflow ${doc.name} v${res.body.version}${res.created ? " (new)" : ""}`);
    } catch (err) {
      log(`  skipped ${file}: ${(err as Error).message}`);
    }
  }
}

/** Starts DynamoDB and S3 emulators, the local state-machine interpreter and the HTTP API, all in process. */
export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedStack> {
  const log = opts.log ?? (() => {});
  const dataDir = resolve(opts.dataDir);
  await mkdir(join(dataDir, "s3"), { recursive: true });

  const emulators = await startEmulators(dataDir, opts.emulatorTransport ?? "in-process");
  await ensureTable(emulators.dynamo.endpoint, TABLE, emulators.dynamo.requestHandler);

  const meter = new CostMeter();
  const s3Client = makeS3Client(emulators.s3, meter);
  await ensureBucket(s3Client, BUCKET);
  const docClient = makeDocumentClient(emulators.dynamo, meter);

  const stopping = new AbortController();
  const knownKey = opts.apiKey ?? (await readLocalKey(dataDir));
  const apiKey = knownKey ?? generateKey();
  const cursorKey = cursorSigningKey(sha256(apiKey));
  const store = new DynamoRunStore(docClient, TABLE, cursorKey);
  const repos = dynamoRepositories(docClient, TABLE, cursorKey);
  const clock = opts.clock ?? systemClock;
  const workRoot = opts.settings?.workRoot ?? join(tmpdir(), "stepwise-tasks");
  const local = localExecutors({
    dataDir,
    workRoot,
    clock,
    meter,
    store,
    containers: opts.containers,
    taskSpawn: opts.taskSpawn ?? "helper",
  });
  if (!(await repos.keys.orgExists(DEFAULT_ORG)))
    await repos.keys.createOrg(DEFAULT_ORG, new Date().toISOString()).catch(() => {});

  // Handler calls in flight, so stop() can let them wind down before the emulators close.
  const calls = new Set<Promise<unknown>>();
  const call: LocalCall =
    <T>(h: (e: unknown, c: Context) => Promise<T>, name: string) =>
    (payload: unknown) => {
      // Once stopping, no handler starts: an execution pauses at its next task and resumes from the records on the
      // next start (a call that never answers, rather than one failing, which the ASL would record as the run's).
      if (stopping.signal.aborted) return new Promise<T>(() => {});
      const p = h(payload, lambdaContext(name));
      calls.add(p);
      const done = () => calls.delete(p);
      p.then(done, done);
      return p;
    };
  // The state machines and the in-process triggers call handlers built from the services they are part of.
  const late = new Late<Services>();
  const engine = {
    advance: (e: unknown, c: Context) => makeAdvanceHandler(late.get())(e, c),
    recordFailure: (e: unknown, c: Context) => makeRecordFailureHandler(late.get())(e, c),
    awaitHuman: (e: unknown, c: Context) => makeAwaitHumanHandler(late.get())(e, c),
    reconcile: (e: unknown, c: Context) => makeReconcileHandler(late.get())(e, c),
  };
  const runMachine = new LocalStateMachine(
    {
      definition:
        opts.stateMachineDefinition ??
        buildRunStateMachine({ advance: "advance", awaitHuman: "await-human", recordFailure: "record-failure" }),
      tasks: {
        [STATE.advance]: call(engine.advance, "advance"),
        [STATE.recordFailure]: call(engine.recordFailure, "record-failure"),
      },
      waitForToken: { [STATE.awaitHuman]: call(engine.awaitHuman, "await-human") },
      startExecution: [STATE.continueAsNew],
      onAbnormalEnd: (detail) => call(engine.reconcile, "reconcile")({ detail }),
    },
    meter,
  );
  const jobs = localJobMachine(late, call, meter);
  const orchestrator = new LocalOrchestrator(runMachine, [jobs.machine]);
  const triggers = localTriggerAdapters(
    {
      registrations: dynamoDurableList(repos.items, LOCAL_SCHEDULER_PK),
      queue: dynamoDurableList(repos.items, LOCAL_DELIVERY_QUEUE_PK),
    },
    clock,
    late,
    log,
  );
  const services = createServices({
    store,
    repos,
    blobs: new S3BlobStore(s3Client, BUCKET),
    runOrchestrator: orchestrator,
    jobOrchestrator: jobs.orchestrator,
    scheduler: triggers.scheduler,
    publishers: [],
    deliveryQueue: triggers.queue,
    secretBox: new LocalSecretBox(await localSecretsKey(dataDir)),
    executors: local.executors,
    // Exports are built in this process, tracked like a handler call so that stop() lets them finish.
    exportWorker: inProcessExportWorker(
      (job) => call((e: unknown) => late.get().evidence.buildExport(e as ExportJob), "export-bundle")(job),
      readableLogger(),
    ),
    clock,
    meter,
    logger: readableLogger(),
    stopping: stopping.signal,
    settings: {
      engineVersion: ENGINE_VERSION,
      workRoot,
      platformKeyHash: sha256(apiKey),
      advanceBudgetMs: 14 * 60_000,
      cancelPollMs: 250,
      maxHumanWaitSeconds: LOCAL_MAX_TIMER_SECONDS,
      ...opts.settings,
    },
    triggerOptions: triggers.options,
    // `npm start` prints a line per run status change (opts.log); tests that pass no log skip it.
    extraSubscribers: [...(opts.log ? [statusLines(opts.log)] : []), ...(opts.subscribers ?? [])],
  });
  late.set(services);
  const deps = services.deps;
  // A container that exits wakes its run here, in process, as an ECS STOPPED event does in the cloud.
  local.container.onFinished = (ids, result) => completeExternalTask(deps, ids, result);
  local.container.logger = deps.logger;

  const api = makeApiHandler(deps);
  const dashboardDist = resolve(import.meta.dirname, "..", "dashboard", "dist");
  const serveDashboard = await loadDashboardServer();
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err) => {
      log(`request failed: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "internal", message: "internal error" } }));
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/api/") || path === "/api" || path.startsWith("/hooks/")) {
      const started = performance.now();
      const body = await readBody(req, 10 * 1024 * 1024);
      if (!body) {
        res.writeHead(413, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "payload_too_large", message: "the body is larger than 10 MiB" } }));
        return;
      }
      const result = await api(await toApiGatewayEvent(req, body), lambdaContext("api"));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      res.writeHead(result.statusCode ?? 200, headers);
      res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8") : undefined);
      log(requestLine(req.method ?? "GET", path, result.statusCode ?? 200, performance.now() - started));
      return;
    }
    if (serveDashboard && (await serveDashboard(req, res, dashboardDist))) return;
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "not_found", message: `nothing at ${path}` } }));
  }
  await new Promise<void>((res) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => res()));
  const url = `http://${opts.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`;
  await writeFile(join(dataDir, "local.json"), `${JSON.stringify({ url, apiKey }, null, 2)}\n`, { mode: 0o600 });
  await chmod(join(dataDir, "local.json"), 0o600);

  if (opts.examplesDir) {
    await loadExamples(deps, opts.examplesDir, log);
    await loadExampleJobs(deps, opts.examplesDir, log);
  }

  // Runs that were going when the last process stopped carry on where their records say they are.
  const active = await deps.store.listActiveRuns();
  // Runs waiting for a concurrency slot stay queued; the free slots are handed out in trigger order.
  const waiting = await resumeQueues(deps, active);
  // Standard lane: a resumed run may have spent part of an Express execution's five minutes already.
  for (const r of active) if (!waiting.has(r.runId)) await orchestrator.startRun(r.orgId, r.runId, "standard");
  if (active.length) log(`resumed ${active.length} run(s)`);
  // Containers a killed server left running are stopped; their runs record the attempt as interrupted.
  const orphans = await local.container.recoverOrphans();
  if (orphans) log(`stopped ${orphans} container(s) left by the previous server`);
  await jobs.resume(deps, log);
  await triggers.start(deps);
  // Retention: swept at start and hourly (a daily EventBridge rule in the cloud).
  const sweep = () => void sweepAllOrgs(deps).catch((err) => log(`retention sweep failed: ${(err as Error).message}`));
  sweep();
  const sweeper = setInterval(sweep, 3_600_000);
  sweeper.unref();
  // Hash the runtimes now rather than on the first task.
  for (const kind of ["script", "command"] as const) void runtimeImage(kind, deps.settings.workRoot).catch(() => {});

  return {
    url,
    apiKey,
    apiKeyGenerated: knownKey === null,
    deps,
    services,
    orchestrator,
    sdkClients: { dynamodb: instrumentable(docClient), s3: instrumentable(s3Client) },
    async stop() {
      stopping.abort();
      clearInterval(sweeper);
      await triggers.stop();
      await Promise.race([Promise.allSettled([...calls]), new Promise((r) => setTimeout(r, 10_000))]);
      orchestrator.shutdown();
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
      await emulators.close();
      local.spawner?.close();
    },
  };
}

type DashboardServer = (req: IncomingMessage, res: ServerResponse, distDir: string) => Promise<boolean>;

async function loadDashboardServer(): Promise<DashboardServer | null> {
  try {
    const mod = (await import("./dashboard-static.ts")) as { serveDashboard?: DashboardServer };
    return mod.serveDashboard ?? null;
  } catch {
    return null;
  }
}
