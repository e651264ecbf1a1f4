// The synthesized run state machine on moto's interpreter, its Lambda tasks answered by the real handlers (loaded
// with the environment the stack gives them), every other AWS call against moto; what a user sees is read through the
// api function with API Gateway's events.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { StepwiseStack } from "../../infra/stepwise-stack.ts";
import { pollUntil } from "../support/poll.ts";
import { PLATFORM_KEY } from "./support/cloud-stack.ts";
import { type Scenario, startScenario } from "./support/scenario.ts";
import { type Json, synthesizeStack } from "./support/synth.ts";
import { requireTool } from "./support/tools.ts";

const motoServer = requireTool("moto_server");
let stack: StepwiseStack;
let template: Json;
let scenario: Scenario | undefined;

const terminal = ["succeeded", "no_action", "failed", "cancelled"];

describe.skipIf(!motoServer)("the run state machine on moto", () => {
  beforeAll(() => {
    ({ stack, template } = synthesizeStack());
  }, 120_000);
  afterEach(async () => {
    await scenario?.stop();
    scenario = undefined;
  });

  async function start(): Promise<Scenario> {
    scenario = await startScenario(motoServer as string, stack, template, { executeStateMachines: true });
    return scenario;
  }

  async function trigger(s: Scenario, definition: Json): Promise<string> {
    const put = await s.api("PUT", `/api/workflows/${definition.name}`, { key: PLATFORM_KEY, body: definition });
    expect(put.status, put.text).toBe(201);
    const res = await s.api("POST", `/api/workflows/${definition.name}/trigger`, { key: PLATFORM_KEY, body: {} });
    expect(res.status, res.text).toBe(202);
    return res.body.runId as string;
  }

  async function runUntil(s: Scenario, runId: string, done: (status: string) => boolean): Promise<Json> {
    return pollUntil(`run ${runId}`, async () => {
      const res = await s.api("GET", `/api/runs/${runId}`, { key: PLATFORM_KEY });
      return done(res.body.status) ? (res.body as Json) : null;
    });
  }

  it("runs a script and a command to succeeded", async () => {
    const s = await start();
    const runId = await trigger(s, {
      name: "cloud-hello",
      nodes: [
        { id: "greet", type: "script", runtime: "node", code: "export default async () => ({ greeting: 'hello' })" },
        {
          id: "echo",
          type: "command",
          needs: ["greet"],
          command: 'echo "heard=$GREETING" >> "$STEPWISE_OUTPUT"',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a Stepwise context reference.
          env: { GREETING: "${context.greeting}" },
        },
      ],
    });
    const run = await runUntil(s, runId, (st) => terminal.includes(st));
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.context).toMatchObject({ heard: { type: "string", value: "hello" } });
    expect(s.moto.invocations.map((i) => i.functionName)).toEqual([s.cloud.functionNames.advanceRun]);
  });
});
