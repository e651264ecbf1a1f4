// One cloud scenario: a moto_server of its own (moto runs one execution per state machine per process), the stack's
// resources created in it, every function loaded with its own environment, and the state machines' Lambda tasks
// bridged to those functions.
import type { FunctionName, StepwiseStack } from "../../../infra/stepwise-stack.ts";
import { type ApiAnswer, apiGateway } from "./api-gateway.ts";
import { type CloudStack, createCloudStack, type LambdaHandler, lambdaContext, loadHandler } from "./cloud-stack.ts";
import { type Moto, startMoto } from "./moto.ts";
import type { Json } from "./synth.ts";

export interface Scenario {
  moto: Moto;
  cloud: CloudStack;
  /** A function's handler, imported with its environment on first use (a cold start). */
  handler(key: FunctionName): Promise<LambdaHandler>;
  /** Calls a function as its AWS event source would (the event, a Lambda context). */
  invoke(key: FunctionName, event: unknown): Promise<any>;
  api(
    method: string,
    path: string,
    opts?: { key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiAnswer>;
  stop(): Promise<void>;
}

/** Starts moto, creates the stack in it and loads every function. */
export async function startScenario(
  motoServer: string,
  stack: StepwiseStack,
  template: Json,
  opts: { executeStateMachines: boolean; faults?: Partial<Record<FunctionName, { status: number; type: string }[]>> },
): Promise<Scenario> {
  const lambdas: Record<string, (payload: unknown) => Promise<unknown>> = {};
  const faults: Record<string, { status: number; type: string }[]> = {};
  const moto = await startMoto(motoServer, { executeStateMachines: opts.executeStateMachines, lambdas, faults });
  try {
    const cloud = await createCloudStack(moto.endpoint, stack, template);
    // Imports change process.env for the duration of a cold start: one at a time.
    const loaded = new Map<FunctionName, Promise<LambdaHandler>>();
    let queue: Promise<unknown> = Promise.resolve();
    const handler = (key: FunctionName): Promise<LambdaHandler> => {
      let h = loaded.get(key);
      if (!h) {
        h = queue.then(() => loadHandler(stack, cloud, key));
        queue = h.catch(() => {});
        loaded.set(key, h);
      }
      return h;
    };
    const invoke = async (key: FunctionName, event: unknown) =>
      (await handler(key))(event, lambdaContext(cloud.functionNames[key]));
    for (const key of Object.keys(stack.functions) as FunctionName[]) {
      const name = cloud.functionNames[key];
      lambdas[name] = (payload) => invoke(key, payload);
      if (opts.faults?.[key]) faults[name] = [...(opts.faults[key] ?? [])];
    }
    const api = apiGateway(template, (event, context) => handler("api").then((h) => h(event, context)));
    return { moto, cloud, handler, invoke, api, stop: () => moto.stop() };
  } catch (err) {
    await moto.stop();
    throw err;
  }
}
