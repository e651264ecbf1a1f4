// Crash-restart with a container running: the real server is SIGKILLed, its container runs on (podman's conmon
// keeps it), and the next server start stops it and records the attempt as interrupted; the retry then runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../shared/adapters/container/container-cli.ts";
import {
  buildBusyboxImage,
  containersConf,
  containersLabelled,
  containersRunning,
  skipWithoutPodman,
} from "../support/containers.ts";
import { pollUntil } from "../support/poll.ts";
import { freePort, makeServerDirs, type ServerDirs, type ServerProcess, serverApi } from "../support/server-process.ts";
import type { Json } from "../support/stack.ts";

const KEY = "containers-restart-key-0123456789abc";
const TAG = "localhost/stepwise-test-restart:1";
let dirs: ServerDirs;
let port: number;
let server: ServerProcess | null = null;

const startServer = () => dirs.start({ apiKey: KEY, port, env: { CONTAINERS_CONF: containersConf() } });
const api = (path: string, init: { method?: string; body?: unknown } = {}): Promise<Json> =>
  serverApi(`http://127.0.0.1:${port}`, KEY, path, init);

describe.skipIf(skipWithoutPodman)("a container when the server is SIGKILLed", () => {
  beforeAll(async () => {
    await buildBusyboxImage(TAG);
    dirs = await makeServerDirs("stepwise-containers-restart");
    port = await freePort();
  });
  afterAll(async () => {
    await server?.stop("SIGTERM");
    await dirs?.remove();
  });

  it("is stopped at the next start, its attempt recorded as interrupted, and the retry runs", async () => {
    server = await startServer();
    await api("/api/workflows/long-container", {
      method: "PUT",
      body: {
        name: "long-container",
        nodes: [
          {
            id: "work",
            type: "container",
            image: TAG,
            retry: { maxAttempts: 2, backoffSeconds: 0 },
            command: [
              "sh",
              "-c",
              'if [ "$STEPWISE_ATTEMPT" = 1 ]; then sleep 120; fi; echo "attempt $STEPWISE_ATTEMPT done"',
            ],
          },
        ],
      },
    });
    const { runId } = await api("/api/workflows/long-container/trigger", { method: "POST", body: {} });
    await pollUntil(
      "the container to run",
      // Running, not just created: a container killed with its podman client before it started is cleaned up with it.
      async () => containersRunning(`${LABELS.run}=${runId}`).length > 0,
      40_000,
    );
    await server.stop("SIGKILL");
    // The server is gone; its container is not.
    expect(containersLabelled(`${LABELS.run}=${runId}`)).toHaveLength(1);

    server = await startServer();
    const run = await pollUntil(
      "the run to end",
      async () => {
        const r = await api(`/api/runs/${runId}`);
        return ["succeeded", "failed", "cancelled"].includes(r.status) ? r : null;
      },
      50_000,
    );
    expect(run.status).toBe("succeeded");
    const task = await api(`/api/runs/${runId}/tasks/work`);
    expect(task.attempts.map((a: Json) => [a.attempt, a.status, a.error?.code ?? null])).toEqual([
      [1, "failed", "interrupted"],
      [2, "succeeded", null],
    ]);
    expect(task.stdout).toBe("attempt 2 done\n");
    expect(containersLabelled(`${LABELS.run}=${runId}`)).toEqual([]);
    expect(server.output()).toMatch(/stopped 1 container\(s\) left by the previous server/);
    // Two real server starts, a container start and a stop: well past the default test timeout on a loaded runner.
  }, 180_000);
});
