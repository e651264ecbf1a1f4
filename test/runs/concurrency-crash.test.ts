// A concurrency slot never leaks through a crash: the real server (`npm start`) is SIGKILLed while the slot holder
// runs and another run waits in the queue; after the restart the waiting run stays queued (the engine does not
// resume it), the holder carries on, and its end hands the slot to the waiting run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../support/poll.ts";
import { makeServerDirs, type ServerDirs, type ServerProcess, serverApi } from "../support/server-process.ts";
import type { Json } from "../support/stack.ts";
import { timeline } from "../support/timeline.ts";

const KEY = "concurrency-crash-platform-key-0123456789";

let dirs: ServerDirs;
let server: ServerProcess | null = null;

async function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<Json> {
  if (!server) throw new Error("no server");
  return serverApi(server.url, KEY, path, init);
}

const runIn = (runId: string, statuses: string[]) =>
  pollUntil(
    `run ${runId} to be ${statuses.join("|")}`,
    async () => {
      const run = await api(`/api/runs/${runId}`);
      return statuses.includes(run.status) ? run : null;
    },
    60_000,
  );

beforeAll(async () => {
  dirs = await makeServerDirs("stepwise-concurrency-crash");
});

afterAll(async () => {
  await server?.stop("SIGTERM");
  await dirs?.remove();
});

describe("a concurrency slot across a crash of the server", () => {
  it("is kept by the interrupted holder and passed on when it ends; the queued run never starts early", async () => {
    server = await dirs.start({ apiKey: KEY });
    await api("/api/workflows/single-lane", {
      method: "PUT",
      body: {
        name: "single-lane",
        concurrency: { limit: 1 },
        nodes: [{ id: "work", type: "command", command: "sleep 2; echo done" }],
      },
    });
    const trigger = async () =>
      (await api("/api/workflows/single-lane/trigger", { method: "POST", body: { parameters: {} } })).runId as string;
    const holder = await trigger();
    await pollUntil("the holder's task to run", async () => {
      const task = await api(`/api/runs/${holder}/tasks/work`);
      return task.status === "running" ? task : null;
    });
    const waiting = await trigger();
    expect(await api(`/api/runs/${waiting}`)).toMatchObject({ status: "queued", queuedReason: "concurrency_limit" });

    await server.stop("SIGKILL");
    server = await dirs.start({ apiKey: KEY });

    // Right after the restart: the holder runs again, the waiting run is still in the queue.
    expect(await api(`/api/runs/${waiting}`)).toMatchObject({ status: "queued", queuedReason: "concurrency_limit" });
    const first = await runIn(holder, ["succeeded"]);
    const second = await runIn(waiting, ["succeeded"]);
    console.log(`concurrency timeline across SIGKILL (limit 1):\n${timeline([first, second])}`);
    expect(Date.parse(second.startedAt)).toBeGreaterThanOrEqual(Date.parse(first.completedAt));

    // And the slot is free again: a third run starts at once.
    const third = await trigger();
    await runIn(third, ["running", "succeeded"]);
  });
});
