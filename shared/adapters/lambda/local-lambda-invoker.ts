import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { hashJson } from "../../domain/hash.ts";
import { TaskFailure } from "../container/container-cli.ts";
import { functionErrorOf, type LambdaInvocation, type LambdaInvoker, splitFunctionRef } from "./lambda-invoker.ts";

/** How much of the function's log comes back, as Lambda's `LogType: Tail` returns. */
const LOG_TAIL_BYTES = 4096;
const MODULE_NAMES = ["index.mjs", "index.js", "index.cjs"];
const LOCAL_ACCOUNT = "000000000000";
const LOCAL_REGION = "local";

/** Where a registered function's code is: a module, its exported handler, and the files its bundle hash covers. */
interface LocalFunction {
  module: string;
  handler: string;
  bundle: { root: string; files: string[] };
}

const RUNNER = `import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const deadline = Date.now() + input.timeoutMs;
const context = {
  ...input.context,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done() {}, succeed() {}, fail() {},
  callbackWaitsForEmptyEventLoop: true,
};
const write = (body) => writeFileSync(process.argv[3], JSON.stringify(body));
try {
  const mod = await import(pathToFileURL(input.module).href);
  const handler = mod[input.handler] ?? mod.default?.[input.handler];
  if (typeof handler !== "function") throw Object.assign(new Error("the module exports no function '" + input.handler + "'"), { name: "Runtime.HandlerNotFound" });
  const result = await handler(input.event, context);
  write({ ok: true, result: result === undefined ? null : result });
} catch (err) {
  console.error(err && err.stack ? err.stack : String(err));
  write({ ok: false, error: { errorType: (err && err.name) || "Error", errorMessage: (err && err.message) || String(err) } });
}
`;

async function filesUnder(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(root, path)));
    else if (entry.isFile()) out.push(relative(root, path));
  }
  return out.sort();
}

/** sha256 of a bundle: the canonical JSON of its files' relative paths and content hashes. */
export async function bundleHash(root: string, files: string[]): Promise<string> {
  const listing: Record<string, string> = {};
  for (const f of files)
    listing[f] = `sha256:${createHash("sha256")
      .update(await readFile(join(root, f)))
      .digest("hex")}`;
  return hashJson(listing);
}

/**
 * The embedded twin of Lambda: a function name resolves to a handler module registered in the data dir, either a
 * folder `<dataDir>/functions/<name>/` holding `index.mjs` (or `index.js`, `index.cjs`) that exports `handler`, or
 * an entry of `<dataDir>/functions.json`: `{"<name>": {"module": "path/to/file.mjs", "handler": "handler"}}` (paths
 * relative to the data dir). It runs in a child process with the Lambda event and context shape and nothing of the
 * engine's environment; its code hash is the hash of the folder's files (or of the one module file).
 */
export class LocalLambdaInvoker implements LambdaInvoker {
  constructor(
    private readonly dataDir: string,
    private readonly workRoot: string,
  ) {}

  private async lookup(name: string): Promise<LocalFunction> {
    const folder = join(this.dataDir, "functions", name);
    for (const m of MODULE_NAMES) {
      const module = join(folder, m);
      if (
        await stat(module)
          .then((s) => s.isFile())
          .catch(() => false)
      )
        return { module, handler: "handler", bundle: { root: folder, files: await filesUnder(folder) } };
    }
    const config = await readFile(join(this.dataDir, "functions.json"), "utf8").catch(() => null);
    if (config !== null) {
      let entry: { module?: unknown; handler?: unknown } | undefined;
      try {
        entry = (JSON.parse(config) as Record<string, typeof entry>)[name];
      } catch (err) {
        throw new TaskFailure("function_not_found", `${join(this.dataDir, "functions.json")} is not valid JSON`, {
          cause: err,
        });
      }
      if (entry && typeof entry.module === "string") {
        const module = isAbsolute(entry.module) ? entry.module : resolve(this.dataDir, entry.module);
        const handler = typeof entry.handler === "string" ? entry.handler : "handler";
        return { module, handler, bundle: { root: dirname(module), files: [relative(dirname(module), module)] } };
      }
    }
    throw new TaskFailure(
      "function_not_found",
      `no local function '${name}': put its handler module at ${join(folder, "index.mjs")} or name it in ${join(this.dataDir, "functions.json")}`,
    );
  }

  async invoke(fn: string, payload: Buffer, timeoutMs: number): Promise<LambdaInvocation> {
    const { name: ref } = splitFunctionRef(fn);
    const name = ref.startsWith("arn:") ? (ref.split(":").pop() as string) : ref;
    const found = await this.lookup(name);
    const codeHash = await bundleHash(found.bundle.root, found.bundle.files).catch((err: Error) => {
      throw new TaskFailure("function_not_found", `cannot read the local function '${name}': ${err.message}`);
    });
    const functionArn = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;
    await mkdir(this.workRoot, { recursive: true });
    const dir = await mkdtemp(join(this.workRoot, `lambda-${name}-`));
    try {
      const requestId = randomUUID();
      const input = {
        module: found.module,
        handler: found.handler,
        timeoutMs,
        event: JSON.parse(payload.toString("utf8")) as unknown,
        context: {
          functionName: name,
          functionVersion: "$LATEST",
          invokedFunctionArn: functionArn,
          memoryLimitInMB: "128",
          awsRequestId: requestId,
          logGroupName: `/aws/lambda/${name}`,
          logStreamName: `local/${requestId}`,
        },
      };
      await writeFile(join(dir, "input.json"), JSON.stringify(input), { mode: 0o600 });
      await writeFile(join(dir, "runner.mjs"), RUNNER);
      const log = await this.runChild(dir, name, timeoutMs);
      const result = JSON.parse(await readFile(join(dir, "result.json"), "utf8").catch(() => "null")) as {
        ok: boolean;
        result?: unknown;
        error?: unknown;
      } | null;
      const logTail = log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString("utf8");
      if (!result) {
        const response = Buffer.from(
          JSON.stringify({ errorType: "Runtime.ExitError", errorMessage: "the function exited without a result" }),
        );
        return {
          functionArn: `${functionArn}:$LATEST`,
          executedVersion: "$LATEST",
          codeHash,
          response,
          functionError: functionErrorOf(response, "Unhandled"),
          logTail,
          host: hostname(),
        };
      }
      const response = Buffer.from(JSON.stringify(result.ok ? result.result : result.error));
      return {
        functionArn: `${functionArn}:$LATEST`,
        executedVersion: "$LATEST",
        codeHash,
        response,
        functionError: result.ok ? null : functionErrorOf(response, "Unhandled"),
        logTail,
        host: hostname(),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private runChild(dir: string, name: string, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolvePromise, reject) => {
      // The input and result paths go as arguments: the function's environment stays Lambda's own.
      const args = [join(dir, "runner.mjs"), join(dir, "input.json"), join(dir, "result.json")];
      const child = spawn(process.execPath, args, {
        cwd: dir,
        // The function gets Lambda's variables, none of the engine's (no credentials, no settings).
        env: {
          PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
          HOME: dir,
          LANG: "C.UTF-8",
          TZ: "UTC",
          AWS_LAMBDA_FUNCTION_NAME: name,
          AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const chunks: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => chunks.push(c));
      child.stderr.on("data", (c: Buffer) => chunks.push(c));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(new TaskFailure("invoke_failed", `could not start the local function: ${err.message}`));
      });
      child.once("close", () => {
        clearTimeout(timer);
        if (timedOut) reject(new TaskFailure("timeout", `the function did not answer within ${timeoutMs / 1000}s`));
        else resolvePromise(Buffer.concat(chunks));
      });
    });
  }
}
