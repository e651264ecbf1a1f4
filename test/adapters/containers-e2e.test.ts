// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${context.x} is a Stepwise reference, not a JS template.
// A workflow mixing command, container and lambda nodes, end to end through the API with podman.
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../shared/adapters/container/container-cli.ts";
import { hashJson } from "../../shared/domain/hash.ts";
import { buildBusyboxImage, containersConf, containersLabelled, skipWithoutPodman } from "../support/containers.ts";
import { HASH, type Json, MICRO_ISO, startStack, type TestStack } from "../support/stack.ts";

const TAG = "localhost/stepwise-test-e2e:1";
const sha = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
const HANDLER = `export const handler = async (event, context) => {
  console.log("scoring", event.total, "in", context.functionName);
  if (event.total < 0) { const e = new Error("negative total"); e.name = "BadTotal"; throw e; }
  return { score: event.total * 2, grade: event.total > 10 ? "high" : "low" };
};
`;

describe.skipIf(skipWithoutPodman)("container and lambda nodes through the API", () => {
  let stack: TestStack;
  let digest = "";
  beforeAll(async () => {
    process.env.CONTAINERS_CONF = containersConf();
    digest = await buildBusyboxImage(TAG);
    stack = await startStack();
    await mkdir(join(stack.dataDir, "functions", "score"), { recursive: true });
    await writeFile(join(stack.dataDir, "functions", "score", "index.mjs"), HANDLER);
  });
  afterAll(() => stack?.stop());

  const tasksOf = async (runId: string): Promise<Record<string, Json>> =>
    Object.fromEntries(
      ((await stack.json(`/api/runs/${runId}/tasks`)).items as Json[]).map((t: Json) => [t.nodeId, t]),
    );

  it("runs command → container → lambda, each with its evidence", async () => {
    const { run, tasks } = await stack.runToEnd({
      name: "mixed",
      nodes: [
        {
          id: "extract",
          type: "command",
          command: "printf '3\\n4\\n5\\n' > out/numbers.txt; echo count:number=3 >> $STEPWISE_OUTPUT",
        },
        {
          id: "sum",
          type: "container",
          needs: ["extract"],
          image: TAG,
          inputs: ["numbers.txt"],
          env: { LABEL: "total of ${context.count}" },
          command: [
            "sh",
            "-c",
            'total=0; for n in $(cat in/numbers.txt); do total=$((total + n)); done; echo "$LABEL: $total" | tee out/total.txt; echo total:number=$total >> $STEPWISE_OUTPUT; echo done >&2',
          ],
        },
        { id: "score", type: "lambda", needs: ["sum"], function: "score", payload: { total: "${context.total}" } },
      ],
    });
    expect(run.status).toBe("succeeded");
    expect(run.context).toMatchObject({
      count: { type: "number", value: 3 },
      total: { type: "number", value: 12 },
      score: { type: "number", value: 24 },
      grade: { type: "string", value: "high" },
    });
    const sum = tasks.sum;
    expect(sum).toMatchObject({ type: "container", status: "succeeded", image: TAG, imageHash: digest, exitCode: 0 });
    expect(sum.stdout).toBe("total of 3: 12\n");
    expect(sum.stderr).toBe("done\n");
    expect(JSON.parse(sum.command)[0]).toBe("sh");
    expect(sum.inputs).toEqual([{ path: "numbers.txt", sha256: sha("3\n4\n5\n"), size: 6 }]);
    expect(sum.outputs).toEqual([{ path: "total.txt", sha256: sha("total of 3: 12\n"), size: 15 }]);
    expect(sum.startedAt).toMatch(MICRO_ISO);
    expect(sum.host).toEqual(expect.any(String));
    const score = tasks.score;
    expect(score).toMatchObject({
      type: "lambda",
      status: "succeeded",
      image: "arn:aws:lambda:local:000000000000:function:score:$LATEST",
      imageHash: hashJson({ "index.mjs": sha(HANDLER) }),
      codeHash: sha(JSON.stringify({ total: "12" })),
    });
    expect(score.stdout).toContain("scoring 12 in score");
    expect(score.stderr).toMatch(/response sha256:[0-9a-f]{64}/);
    const logs = await stack.api(`/api/runs/${run.runId}/logs?node=sum`);
    expect(logs.text).toContain("total of 3: 12");
    expect(tasks.extract.imageHash).toMatch(HASH);
  });

  it("fails a lambda node with the function's error type and message", async () => {
    const { run, tasks } = await stack.runToEnd({
      name: "lambda-error",
      nodes: [{ id: "score", type: "lambda", function: "score", payload: { total: -1 } }],
    });
    expect(run.status).toBe("failed");
    expect(tasks.score.error).toMatchObject({ code: "function_error", message: "BadTotal: negative total" });
  });

  it("stops and removes a container that runs past its timeout", async () => {
    const { run, tasks } = await stack.runToEnd({
      name: "too-slow",
      nodes: [{ id: "slow", type: "container", image: TAG, command: ["sleep", "60"], timeoutSeconds: 2 }],
    });
    expect(run.status).toBe("failed");
    expect(tasks.slow.error.code).toBe("timeout");
    expect(tasks.slow.imageHash).toBe(digest);
    expect(containersLabelled(`${LABELS.run}=${run.runId}`)).toEqual([]);
  });

  it("stops and removes the container when the run is cancelled", async () => {
    await stack.putWorkflow({
      name: "cancel-me",
      nodes: [{ id: "long", type: "container", image: TAG, command: ["sleep", "60"] }],
    });
    const runId = await stack.trigger("cancel-me");
    await stack.waitFor("the container to run", async () => containersLabelled(`${LABELS.run}=${runId}`).length > 0);
    await stack.json(`/api/runs/${runId}/cancel`, { method: "POST", body: {}, expect: 202 });
    const run = await stack.waitForRun(runId);
    expect(run.status).toBe("cancelled");
    expect((await tasksOf(runId)).long.status).toBe("cancelled");
    await stack.waitFor(
      "the container to be removed",
      async () => containersLabelled(`${LABELS.run}=${runId}`).length === 0,
    );
  });

  it("fails with image_not_found when the image is not on the machine and cannot be pulled", async () => {
    const { run, tasks } = await stack.runToEnd({
      name: "no-image",
      nodes: [{ id: "ghost", type: "container", image: "localhost/stepwise-no-such-image:1" }],
    });
    expect(run.status).toBe("failed");
    expect(tasks.ghost.error).toMatchObject({ code: "image_not_found" });
    expect(tasks.ghost.image).toBe("localhost/stepwise-no-such-image:1");
  });

  it("reruns the digest the original run recorded after the tag moved", async () => {
    const tag = "localhost/stepwise-test-e2e-moving:1";
    const first = await buildBusyboxImage(tag);
    const { run } = await stack.runToEnd({
      name: "pinned",
      nodes: [{ id: "c", type: "container", image: tag, command: ["true"] }],
    });
    expect((await tasksOf(run.runId)).c.imageHash).toBe(first);
    const second = await buildBusyboxImage(tag);
    expect(second).not.toBe(first);
    const rerun = await stack.json(`/api/runs/${run.runId}/rerun`, { method: "POST", body: {}, expect: 202 });
    const done = await stack.waitForRun(rerun.runId);
    expect(done.status).toBe("succeeded");
    expect((await tasksOf(rerun.runId)).c).toMatchObject({ image: tag, imageHash: first });
    const fresh = await stack.trigger("pinned");
    await stack.waitForRun(fresh);
    expect((await tasksOf(fresh)).c.imageHash).toBe(second);
  });
});
