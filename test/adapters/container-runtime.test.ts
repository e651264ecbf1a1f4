import { execFileSync, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findContainerRuntime, LABELS, TaskFailure } from "../../shared/adapters/container/container-cli.ts";
import { LocalContainerExecutor } from "../../shared/adapters/container/container-executor.ts";
import { runContainerTask, stopOrphanContainers } from "../../shared/adapters/container/container-task.ts";
import { systemClock } from "../../shared/domain/clock.ts";
import {
  buildBusyboxImage,
  containerEnv,
  containersLabelled,
  skipWithoutPodman,
  testCli,
} from "../support/containers.ts";

const workRoot = join(tmpdir(), "stepwise-container-runtime-test");
const TAG = "localhost/stepwise-test-runtime:1";
const runId = `run_ctest${Date.now()}`;
const spec = (nodeId: string, over: Partial<Parameters<typeof runContainerTask>[1]> = {}) => ({
  image: TAG,
  env: {},
  context: { rows: 3 },
  secrets: {},
  run: { id: runId, nodeId, attempt: 1, workflow: "wf" },
  timeoutMs: 60_000,
  ...over,
});
const never = new AbortController().signal;

describe("container runtime discovery", () => {
  it("fails with container_runtime_unavailable and says how to install one when neither is on PATH", async () => {
    const err = await findContainerRuntime({ path: "/nonexistent", env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailure);
    expect((err as TaskFailure).code).toBe("container_runtime_unavailable");
    expect((err as Error).message).toMatch(/podman or docker was not found.*apt-get install -y podman/);
  });

  it("names the runtime STEPWISE_CONTAINER_RUNTIME chose when it is missing", async () => {
    const err = await findContainerRuntime({ choice: "nerdctl", path: "/usr/bin", env: {} }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/'nerdctl' \(STEPWISE_CONTAINER_RUNTIME\) was not found/);
  });
});

describe.skipIf(skipWithoutPodman)("container attempts with podman", () => {
  const cli = testCli();
  let digest = "";
  beforeAll(async () => {
    digest = await buildBusyboxImage(TAG);
  });
  afterAll(() => {
    execFileSync("podman", ["rmi", "--force", TAG], { env: containerEnv() as NodeJS.ProcessEnv, stdio: "ignore" });
  });

  it("finds podman on the PATH", async () => {
    const found = await findContainerRuntime({ path: process.env.PATH ?? "", env: containerEnv() });
    expect(found.bin).toMatch(/podman$/);
  });

  it("runs pinned to the digest in /stepwise with in/, out/ and $STEPWISE_OUTPUT, and only the node's env", async () => {
    process.env.STEPWISE_LEAK_CHECK = "engine-only";
    const outcome = await runContainerTask(
      cli,
      spec("pipeline", {
        command: [
          "sh",
          "-c",
          'pwd; cat in/data.txt | wc -l > out/count.txt; echo "lines:number=$(cat out/count.txt)" >> "$STEPWISE_OUTPUT"; echo "greeting=$GREETING" >> "$STEPWISE_OUTPUT"; env | sort; echo warn >&2',
        ],
        env: { GREETING: "hello" },
        prepareInputs: (inDir) => writeFile(join(inDir, "data.txt"), "a\nb\nc\n"),
      }),
      workRoot,
      systemClock,
      never,
    );
    delete process.env.STEPWISE_LEAK_CHECK;
    try {
      expect(outcome.status).toBe("succeeded");
      expect(outcome.exitCode).toBe(0);
      expect(outcome.image).toBe(TAG);
      expect(outcome.imageHash).toBe(digest);
      expect(outcome.outputVariables).toEqual({
        lines: { type: "number", value: 3 },
        greeting: { type: "string", value: "hello" },
      });
      expect(await readFile(join(outcome.outDir, "count.txt"), "utf8")).toBe("3\n");
      expect(outcome.stdoutHead.split("\n")[0]).toBe("/stepwise");
      expect(outcome.stdoutHead).toContain("GREETING=hello");
      expect(outcome.stdoutHead).toContain("STEPWISE_OUTPUT=/run/stepwise/output.env");
      expect(outcome.stdoutHead).not.toContain("STEPWISE_LEAK_CHECK");
      expect(outcome.stdoutHead).not.toMatch(/AWS_|CONTAINERS_CONF/);
      expect(outcome.stderrHead).toBe("warn\n");
      expect(outcome.startedAt).toMatch(/\.\d{6}Z$/);
      expect(containersLabelled(`${LABELS.run}=${runId}`)).toEqual([]);
    } finally {
      await outcome.cleanup();
    }
  });

  it("fails on a non-zero exit with the code and the last stderr line", async () => {
    const outcome = await runContainerTask(
      cli,
      spec("bad", { command: ["sh", "-c", "echo boom >&2; exit 3"] }),
      workRoot,
      systemClock,
      never,
    );
    await outcome.cleanup();
    expect(outcome).toMatchObject({ status: "failed", exitCode: 3 });
    expect(outcome.error).toEqual({ code: "task_failed", message: "the container exited with code 3: boom" });
  });

  it("stops and removes the container on timeout and on cancel", async () => {
    const started = Date.now();
    const timedOut = await runContainerTask(
      cli,
      spec("slow", { command: ["sleep", "60"], timeoutMs: 1500 }),
      workRoot,
      systemClock,
      never,
    );
    await timedOut.cleanup();
    expect(timedOut.error?.code).toBe("timeout");
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 1500);
    const cancelled = await runContainerTask(
      cli,
      spec("cancelme", { command: ["sleep", "60"] }),
      workRoot,
      systemClock,
      abort.signal,
    );
    await cancelled.cleanup();
    expect(cancelled.status).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(containersLabelled(`${LABELS.run}=${runId}`)).toEqual([]);
  });

  it("fails with image_not_found before anything starts when the image is missing", async () => {
    const err = await runContainerTask(
      cli,
      spec("missing", { image: "localhost/stepwise-no-such-image:1" }),
      workRoot,
      systemClock,
      never,
    ).catch((e: unknown) => e);
    expect((err as TaskFailure).code).toBe("image_not_found");
    expect((err as Error).message).toMatch(/'localhost\/stepwise-no-such-image:1' is not on this machine/);
  });

  it("runs the recorded digest after the tag moved on (a rerun pinned to the definition)", async () => {
    const tag = "localhost/stepwise-test-moving:1";
    const first = await buildBusyboxImage(tag);
    const second = await buildBusyboxImage(tag); // the same tag now names another image
    expect(second).not.toBe(first);
    const outcome = await runContainerTask(
      cli,
      spec("pinned", { image: tag, pinnedDigest: first, command: ["true"] }),
      workRoot,
      systemClock,
      never,
    );
    await outcome.cleanup();
    expect(outcome).toMatchObject({ status: "succeeded", image: tag, imageHash: first });
  });

  it("stops the containers a killed engine left behind, found by their labels", async () => {
    const orphanRun = `${runId}-orphan`;
    const client = spawn(
      "podman",
      ["run", "--label", `${LABELS.run}=${orphanRun}`, "--label", `${LABELS.node}=n`, TAG, "sleep", "60"],
      { env: containerEnv() as NodeJS.ProcessEnv, stdio: "ignore" },
    );
    for (let i = 0; i < 50 && containersLabelled(`${LABELS.run}=${orphanRun}`).length === 0; i++)
      await new Promise((r) => setTimeout(r, 200));
    client.kill("SIGKILL"); // the engine died; the container runs on under conmon
    expect(containersLabelled(`${LABELS.run}=${orphanRun}`)).toHaveLength(1);
    expect(await stopOrphanContainers(cli, orphanRun, "n")).toBe(1);
    expect(containersLabelled(`${LABELS.run}=${orphanRun}`)).toEqual([]);
  });

  it("recovers at start only the containers of its own server, never those of another server on the machine", async () => {
    const orphanRun = `${runId}-mine`;
    const othersRun = `${runId}-theirs`;
    const detached = (run: string, instance: string) =>
      execFileSync(
        "podman",
        [
          ...["run", "-d", "--label", `${LABELS.org}=org_1`, "--label", `${LABELS.node}=n`],
          ...["--label", `${LABELS.run}=${run}`, "--label", `${LABELS.instance}=${instance}`, TAG, "sleep", "60"],
        ],
        { env: containerEnv() as NodeJS.ProcessEnv, stdio: "ignore" },
      );
    detached(orphanRun, "server-a");
    detached(othersRun, "server-b");
    const settings = { path: process.env.PATH ?? "", cliEnv: containerEnv(), containerRuntime: "podman" };
    const woken: string[] = [];
    const executor = new LocalContainerExecutor(settings, workRoot, systemClock, "server-a");
    executor.onFinished = async (ids) => {
      woken.push(ids.runId);
    };
    try {
      expect(await executor.recoverOrphans()).toBe(1);
      expect(containersLabelled(`${LABELS.run}=${orphanRun}`)).toEqual([]);
      expect(containersLabelled(`${LABELS.run}=${othersRun}`)).toHaveLength(1);
      expect(woken).toEqual([orphanRun]); // its run is woken to record the attempt as interrupted
    } finally {
      await cli.remove(containersLabelled(`${LABELS.run}=${othersRun}`)[0] ?? "none");
    }
  });
});
