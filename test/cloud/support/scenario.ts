// One cloud scenario: a moto_server of its own (moto runs one execution per state machine per process), the stack's
// resources created in it, every function loaded with its own environment, and the state machines' Lambda tasks
// bridged to those functions.
import type { StepwiseStack } from "../../../infra/stepwise-stack.ts";
import { type ApiAnswer, apiGateway } from "./api-gateway.ts";
import { type CloudStack, createCloudStack, type LambdaHandler, lambdaContext, loadHandler } from "./cloud-stack.ts";
import { type Moto, startMoto } from "./moto.ts";
import type { Json } from "./synth.ts";

export interface Scenario {
  moto: Moto;
  cloud: CloudStack;
  handlers: Record<keyof StepwiseStack["functions"], LambdaHandler>;
  /** Calls a function as its AWS event source would (the event, a Lambda context). */
  invoke(key: keyof StepwiseStack["functions"], event: unknown): Promise<any>;
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
  opts: { executeStateMachines: boolean },
): Promise<Scenario> {
  const lambdas: Record<string, (payload: unknown) => Promise<unknown>> = {};
  const moto = await startMoto(motoServer, { ...opts, lambdas });
  try {
    const cloud = await createCloudStack(moto.endpoint, stack, template);
    const handlers = {} as Scenario["handlers"];
    for (const key of Object.keys(stack.functions) as (keyof StepwiseStack["functions"])[]) {
      handlers[key] = await loadHandler(stack, cloud, key);
      const name = cloud.functionNames[key];
      lambdas[name] = (payload) => handlers[key](payload, lambdaContext(name));
    }
    return {
      moto,
      cloud,
      handlers,
      invoke: (key, event) => handlers[key](event, lambdaContext(cloud.functionNames[key])),
      api: apiGateway(template, handlers.api),
      stop: () => moto.stop(),
    };
  } catch (err) {
    await moto.stop();
    throw err;
  }
}
