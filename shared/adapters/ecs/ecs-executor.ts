import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Clock } from "../../domain/clock.ts";
import { isoMicro } from "../../domain/clock.ts";
import { hashJson, sha256 } from "../../domain/hash.ts";
import type { ContainerNode } from "../../domain/workflow.ts";
import { readTar } from "../../evidence/tar.ts";
import type { BlobStore } from "../../ports/blob-store.ts";
import type { ExternalHandle, StartResult, TaskExecutor, TaskOutcome, TaskRequest } from "../../ports/task-executor.ts";
import { ContainerCli, TaskFailure } from "../container/container-cli.ts";
import { NO_ACTION_EXIT_CODE } from "../process/run-process.ts";
import { parseOutputFile } from "../process/task-output.ts";
import type { EcsTaskDriver, EcsTaskView } from "./ecs-task-driver.ts";

/** How long the stage containers' presigned URLs live past the attempt's timeout. */
const URL_MARGIN_SECONDS = 3600;
/** S3 presigned URLs live at most 7 days. */
const MAX_URL_SECONDS = 7 * 86400;

/** container nodes in AWS: an ECS Fargate task per attempt, woken by its STOPPED event. */
export class EcsContainerExecutor implements TaskExecutor<ContainerNode> {
  constructor(
    private readonly driver: EcsTaskDriver,
    private readonly blobs: BlobStore & Required<Pick<BlobStore, "presignGet" | "presignPut">>,
    private readonly workRoot: string,
    private readonly clock: Clock,
    private readonly pinnedDigest: (req: TaskRequest<ContainerNode>) => Promise<string | undefined> = async () =>
      undefined,
  ) {}

  async start(req: TaskRequest<ContainerNode>): Promise<StartResult> {
    const node = req.node;
    const prefix = `stage/${req.orgId}/${req.run.id}/${req.run.nodeId}/${req.run.attempt}-${randomBytes(8).toString("hex")}`;
    const expires = Math.min(MAX_URL_SECONDS, Math.ceil(req.timeoutMs / 1000) + URL_MARGIN_SECONDS);
    const files: Array<{ path: string; sha256: string; url: string }> = [];
    if (req.prepareInputs) {
      await mkdir(this.workRoot, { recursive: true });
      const dir = await mkdtemp(join(this.workRoot, "stage-in-"));
      try {
        await req.prepareInputs(dir);
        for (const path of await listFiles(dir)) {
          const bytes = await readFile(join(dir, path));
          const key = `${prefix}/in/${path}`;
          await this.blobs.put(key, bytes);
          files.push({ path, sha256: sha256(bytes), url: await this.blobs.presignGet(key, expires) });
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    await this.blobs.put(
      `${prefix}/manifest.json`,
      JSON.stringify({ context: req.context, files }),
      "application/json",
    );
    const pinned = await this.pinnedDigest(req);
    const image = pinned ? `${ContainerCli.repository(node.image)}@${pinned}` : node.image;
    const taskDefinitionArn = await this.driver.taskDefinition(image, node.resources);
    const taskArn = await this.driver.run({
      taskDefinitionArn,
      command: node.command,
      env: req.env,
      stageInUrl: await this.blobs.presignGet(`${prefix}/manifest.json`, expires),
      stageOutUrl: await this.blobs.presignPut(`${prefix}/result.tar`, expires),
      attempt: { orgId: req.orgId, runId: req.run.id, nodeId: req.run.nodeId, attempt: req.run.attempt },
    });
    const now = this.clock.nowMs();
    return {
      kind: "started",
      handle: {
        ref: taskArn,
        startedAt: isoMicro(now),
        deadlineMs: now + req.timeoutMs,
        data: { prefix, image: node.image, command: node.command ?? null },
      },
    };
  }

  /** Builds the outcome from the STOPPED event (or DescribeTasks) and the stage-out result in S3. */
  async complete(handle: ExternalHandle, result: unknown): Promise<TaskOutcome> {
    const view = isView(result) ? result : await this.driver.describe(handle.ref);
    const prefix = String(handle.data?.prefix ?? "");
    await mkdir(this.workRoot, { recursive: true });
    const dir = await mkdtemp(join(this.workRoot, "stage-out-"));
    const outDir = join(dir, "out");
    await mkdir(outDir);
    let outputText = "";
    const stream = await this.blobs.getStream(`${prefix}/result.tar`);
    if (stream) {
      for await (const entry of readTar(stream)) {
        if (entry.name === "output.env" || entry.name === "result.json") {
          const parts: Buffer[] = [];
          for await (const c of entry.body) parts.push(c);
          if (entry.name === "output.env") outputText = Buffer.concat(parts).toString("utf8");
        } else if (entry.name.startsWith("out/")) {
          const target = join(outDir, entry.name.slice(4));
          if (!target.startsWith(`${outDir}/`)) continue; // a path escaping out/ is not the stage script's
          await mkdir(dirname(target), { recursive: true });
          await pipeline(Readable.from(entry.body), createWriteStream(target));
        }
      }
    }
    const logName = `task/${ECS_LOG_CONTAINER}/${handle.ref.split("/").pop()}`;
    const log = `o|logs: CloudWatch Logs stream ${logName}\n`;
    await writeFile(join(dir, "task.log"), log);
    const now = this.clock.nowMs();
    const started = view?.startedAt?.getTime() ?? Date.parse(handle.startedAt);
    const ended = view?.stoppedAt?.getTime() ?? now;
    const exitCode = view?.task.exitCode ?? null;
    const argv: unknown = handle.data?.command;
    const base = {
      exitCode,
      stdoutHead: `logs: CloudWatch Logs stream ${logName}\n`,
      stderrHead: "",
      logPath: join(dir, "task.log"),
      logBytes: Buffer.byteLength(log),
      logSha256: sha256(log),
      liveCopied: false,
      image: String(handle.data?.image ?? ""),
      imageHash: view?.task.imageDigest ?? "",
      command: Array.isArray(argv) ? JSON.stringify(argv) : null,
      codeHash: hashJson(Array.isArray(argv) ? argv : []),
      startedAt: isoMicro(started),
      endedAt: isoMicro(ended),
      durationMs: Math.round((ended - started) * 1000) / 1000,
      host: view ? `${view.taskArn}${view.availabilityZone ? ` (${view.availabilityZone})` : ""}` : handle.ref,
      outDir,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
    const fail = (code: string, message: string): TaskOutcome => ({
      ...base,
      status: "failed",
      error: { code, message },
      noActionReason: null,
      outputVariables: {},
    });
    if (!view) return fail("task_lost", `ECS no longer knows the task ${handle.ref}`);
    if (exitCode === null) {
      const why = view.task.reason ?? view.stoppedReason ?? view.stopCode ?? "unknown";
      // The same code a missing image gets locally; ECS names the image in its reason.
      if (/^CannotPullContainerError/.test(why))
        return fail("image_not_found", `ECS could not pull '${base.image}': ${why}`);
      return fail("container_start_failed", `the container did not run: ${why}`);
    }
    if (!stream) return fail("stage_out_failed", "the stage-out container uploaded no result");
    if (exitCode === NO_ACTION_EXIT_CODE)
      return {
        ...base,
        status: "no_action",
        error: null,
        noActionReason: `exit code ${NO_ACTION_EXIT_CODE}`,
        outputVariables: {},
      };
    if (exitCode !== 0) return fail("task_failed", `the container exited with code ${exitCode}`);
    try {
      return {
        ...base,
        status: "succeeded",
        error: null,
        noActionReason: null,
        outputVariables: parseOutputFile(outputText),
      };
    } catch (err) {
      return fail("invalid_output", (err as Error).message);
    }
  }

  async stop(handle: ExternalHandle): Promise<void> {
    await this.driver.stop(handle.ref, "stopped by Stepwise (timeout or cancel)").catch(() => {});
  }

  async runtimeOf(node: ContainerNode) {
    return { image: node.image, imageHash: "" };
  }
}

const ECS_LOG_CONTAINER = "task";

function isView(v: unknown): v is EcsTaskView {
  return Boolean(v && typeof v === "object" && "taskArn" in v && "task" in v);
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (e.isFile()) out.push(relative(root, p));
  }
  return out.sort();
}

/** container nodes in a deployment without the containers construct: each attempt fails saying so. */
export class NoContainersExecutor implements TaskExecutor<ContainerNode> {
  async start(): Promise<StartResult> {
    throw new TaskFailure(
      "container_runtime_unavailable",
      "this deployment runs no containers: deploy the stack with its containers construct (ECS cluster and roles)",
    );
  }

  async runtimeOf(node: ContainerNode) {
    return { image: node.image, imageHash: "" };
  }
}
