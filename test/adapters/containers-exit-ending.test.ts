// A container's exit is recorded by its wake-up, outside the Advance call that started it; the run must still end
// with what the exit meant. (Before the planner read those endings from the records, a failed last container left
// the run succeeded, and a failed container with a node after it ended the run "stuck".) Podman, through the API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_ACTION_EXIT_CODE } from "../../shared/adapters/process/run-process.ts";
import { buildBusyboxImage, containersConf, skipWithoutPodman } from "../support/containers.ts";
import { startStack, type TestStack } from "../support/stack.ts";

const TAG = "localhost/stepwise-test-exit-ending:1";

describe.skipIf(skipWithoutPodman)("a run ends with what its containers' exits meant", () => {
  let stack: TestStack;
  beforeAll(async () => {
    process.env.CONTAINERS_CONF = containersConf();
    await buildBusyboxImage(TAG);
    stack = await startStack();
  });
  afterAll(() => stack?.stop());

  it("fails the run when its last container exits non-zero", async () => {
    const { run, tasks } = await stack.runToEnd({
      name: "exit-last",
      nodes: [{ id: "c", type: "container", image: TAG, command: ["sh", "-c", "exit 2"] }],
    });
    expect(tasks.c).toMatchObject({ status: "failed", exitCode: 2, error: { code: "task_failed" } });
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ code: "task_failed" });
  });

  it("fails the run with the container's error when a node waits on it", async () => {
    const { run, tasks } = await stack.runToEnd({
      name: "exit-before",
      nodes: [
        { id: "c", type: "container", image: TAG, command: ["sh", "-c", "exit 2"] },
        { id: "after", type: "command", needs: ["c"], command: "true" },
      ],
    });
    expect(tasks.after?.status).not.toBe("succeeded");
    expect(run).toMatchObject({ status: "failed", error: { code: "task_failed" } });
  });

  it("ends the run no_action when its container exits with the no-action code", async () => {
    const { run } = await stack.runToEnd({
      name: "exit-no-action",
      nodes: [{ id: "c", type: "container", image: TAG, command: ["sh", "-c", `exit ${NO_ACTION_EXIT_CODE}`] }],
    });
    expect(run.status).toBe("no_action");
    expect(run.noActionReason).toContain(String(NO_ACTION_EXIT_CODE));
  });
});
