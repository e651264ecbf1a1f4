// One moto_server per scenario. moto's Step Functions interpreter invokes Lambda tasks over HTTP at
// localhost:$MOTO_PORT; pointing MOTO_PORT at a small bridge (instead of moto's own port) makes those invocations
// reach the real handlers in this process, so the synthesized ASL runs on moto's interpreter against our code.
// Every other request from the interpreter is passed on to moto.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A Lambda handler as the bridge calls it: the invocation payload in, the result out (a throw is a function error). */
export type BridgedHandler = (payload: unknown) => Promise<unknown>;

export interface Moto {
  /** The endpoint SDK clients use (moto itself). */
  endpoint: string;
  /**
   * The bridge's endpoint: Lambda's Invoke API answered by the handlers in this process (everything else passed to
   * moto). Point a function's Lambda client at it (AWS_ENDPOINT_URL_LAMBDA) to have its invocations of the stack's
   * own functions reach them, asynchronous ones (InvocationType Event) answered 202 at once as Lambda does.
   */
  bridge: string;
  /** The Lambda invocations the interpreter made, by function name, in order. */
  invocations: { functionName: string; payload: unknown; error?: string }[];
  stop(): Promise<void>;
}

export interface MotoOptions {
  /** Executes state machines (moto's parser backend); one execution per state machine per process. */
  executeStateMachines: boolean;
  /** Handlers by function name (the last segment of the ARN the ASL names). */
  lambdas?: Record<string, BridgedHandler>;
  /**
   * Lambda service errors to answer instead of calling the handler, by function name, consumed in order: what
   * Lambda's Invoke API returns when it throttles or fails (e.g. 429 TooManyRequestsException).
   */
  faults?: Record<string, { status: number; type: string }[]>;
}

const INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations/;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The function name in an invocation path: a name, a partial or a full ARN (URL-encoded), without qualifier. */
function functionNameOf(encoded: string): string {
  const name = decodeURIComponent(encoded);
  const parts = name.split(":");
  return name.startsWith("arn:") ? (parts[6] ?? name) : (parts[0] ?? name);
}

/** Starts moto_server (and the bridge) on free ports and configures it; rejects with its output if it will not start. */
export async function startMoto(motoServer: string, opts: MotoOptions): Promise<Moto> {
  const [motoPort, bridgePort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${motoPort}`;
  const invocations: Moto["invocations"] = [];
  const lambdas = opts.lambdas ?? {};
  let inFlight = 0;

  const bridge: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const data = await body(req);
    const m = INVOKE.exec(req.url ?? "");
    const handler = m ? lambdas[functionNameOf(m[1] as string)] : undefined;
    const fault = m ? opts.faults?.[functionNameOf(m[1] as string)]?.shift() : undefined;
    if (m && fault) {
      invocations.push({ functionName: functionNameOf(m[1] as string), payload: null, error: fault.type });
      res.writeHead(fault.status, {
        "content-type": "application/json",
        "x-amzn-errortype": fault.type,
        "x-amzn-requestid": `fault-${invocations.length}`,
      });
      res.end(JSON.stringify({ Type: "User", message: `${fault.type} (injected by the cloud suite)` }));
      return;
    }
    if (m && handler) {
      const functionName = functionNameOf(m[1] as string);
      const payload = data.length ? JSON.parse(data.toString("utf8")) : {};
      const invocation: Moto["invocations"][number] = { functionName, payload };
      invocations.push(invocation);
      if (req.headers["x-amz-invocation-type"] === "Event") {
        // Lambda queues an asynchronous invocation and answers 202 with no body; the function runs afterwards.
        res.writeHead(202, { "x-amzn-requestid": `event-${invocations.length}` });
        res.end();
        inFlight++;
        handler(payload)
          .catch((err: Error) => {
            invocation.error = err.name;
          })
          .finally(() => inFlight--);
        return;
      }
      inFlight++;
      try {
        const result = await handler(payload);
        res.writeHead(200, {
          "content-type": "application/json",
          "x-amz-executed-version": "$LATEST",
          "x-amzn-requestid": `ok-${invocations.length}`,
        });
        res.end(JSON.stringify(result ?? null));
      } catch (err) {
        // What Lambda answers for an error thrown by a Node handler: 200, X-Amz-Function-Error and the error JSON.
        const e = err as Error;
        invocation.error = e.name;
        res.writeHead(200, {
          "content-type": "application/json",
          "x-amz-function-error": "Unhandled",
          "x-amzn-requestid": `error-${invocations.length}`,
        });
        res.end(JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }));
      } finally {
        inFlight--;
      }
      return;
    }
    // Anything else goes to moto unchanged.
    const upstream = await fetch(`${endpoint}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k, v]) => typeof v === "string" && k !== "host" && k !== "content-length"),
      ) as Record<string, string>,
      body: data.length ? new Uint8Array(data) : undefined,
    });
    const headers: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      headers[k] = v;
    });
    res.writeHead(upstream.status, headers);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => bridge.listen(bridgePort, "127.0.0.1", r));

  let output = "";
  const child: ChildProcess = spawn(motoServer, ["-H", "127.0.0.1", "-p", String(motoPort)], {
    env: { ...process.env, MOTO_PORT: String(bridgePort) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    // A handler still running (an execution the test no longer waits for) finishes against moto, not a closed port.
    const until = Date.now() + 15_000;
    while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    process.off("exit", killOnExit);
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await new Promise((r) => bridge.close(r));
  };

  // Seconds when idle; a loaded CI machine can take much longer to start Python and import moto.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`moto_server exited (${child.exitCode}):\n${output}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/config`, {
        method: "POST",
        body: JSON.stringify({
          stepfunctions: { execute_state_machine: opts.executeStateMachines },
          lambda: { use_docker: false },
        }),
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, bridge: `http://127.0.0.1:${bridgePort}`, invocations, stop };
}
