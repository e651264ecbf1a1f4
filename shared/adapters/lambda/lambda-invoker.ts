import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
} from "@aws-sdk/client-lambda";
import { TaskFailure } from "../container/container-cli.ts";

/** What one invocation of a user's function returned, with what identifies the code that ran. */
export interface LambdaInvocation {
  /** The function's ARN with the version that ran (`…:function:name:7`). */
  functionArn: string;
  executedVersion: string;
  /** sha256 of the code package of that version, `sha256:<hex>`. */
  codeHash: string;
  /** The response's bytes (the function's JSON result, or its error object). */
  response: Buffer;
  /** Set when the function threw: its error type and message. */
  functionError: { type: string; message: string } | null;
  /** The end of the function's log (Lambda returns the last 4 KB). */
  logTail: string;
  /** Where it ran, for the evidence's host. */
  host: string;
}

/** Invokes a user's Lambda function (the `lambda` node's port). */
export interface LambdaInvoker {
  /** `fn` is a name, `name:qualifier` or an ARN; `payload` the JSON bytes sent. */
  invoke(fn: string, payload: Buffer, timeoutMs: number): Promise<LambdaInvocation>;
}

/** Splits `name[:qualifier]` or a function ARN into the unqualified function and its qualifier. */
export function splitFunctionRef(fn: string): { name: string; qualifier?: string } {
  const m = /^(arn:[^:]+:lambda:[^:]+:\d{12}:function:[^:]+)(?::(.+))?$/.exec(fn);
  if (m) return { name: m[1] as string, qualifier: m[2] };
  const [name, qualifier] = fn.split(":", 2) as [string, string | undefined];
  return { name, qualifier };
}

/** Lambda's CodeSha256 is the base64 of the package's sha256; evidence hashes are `sha256:<hex>`. */
export function codeSha256Hex(base64: string): string {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length !== 32) throw new Error(`CodeSha256 '${base64}' is not a base64 sha256`);
  return `sha256:${bytes.toString("hex")}`;
}

/** The error object a function returns when it throws: `{errorType, errorMessage}`. */
export function functionErrorOf(response: Buffer, kind: string): { type: string; message: string } {
  try {
    const body = JSON.parse(response.toString("utf8")) as { errorType?: unknown; errorMessage?: unknown };
    return {
      type: typeof body.errorType === "string" ? body.errorType : kind,
      message: typeof body.errorMessage === "string" ? body.errorMessage : response.toString("utf8").slice(0, 500),
    };
  } catch {
    return { type: kind, message: response.toString("utf8").slice(0, 500) };
  }
}

/** Invokes functions in the account: RequestResponse with the log tail, then the code hash of the version that ran. */
export class AwsLambdaInvoker implements LambdaInvoker {
  constructor(private readonly client: LambdaClient) {}

  /** An invoker with the function's own credentials and region. */
  static create(): AwsLambdaInvoker {
    return new AwsLambdaInvoker(new LambdaClient({}));
  }

  async invoke(fn: string, payload: Buffer, timeoutMs: number): Promise<LambdaInvocation> {
    const { name, qualifier } = splitFunctionRef(fn);
    const abort = AbortSignal.timeout(timeoutMs);
    let out: InvokeCommandOutput;
    try {
      out = await this.client.send(
        new InvokeCommand({
          FunctionName: name,
          Qualifier: qualifier,
          InvocationType: "RequestResponse",
          LogType: "Tail",
          Payload: payload,
        }),
        { abortSignal: abort },
      );
    } catch (err) {
      const e = err as Error;
      if (abort.aborted) throw new TaskFailure("timeout", `the function did not answer within ${timeoutMs / 1000}s`);
      const code = e.name === "ResourceNotFoundException" ? "function_not_found" : "invoke_failed";
      throw new TaskFailure(code, `could not invoke '${fn}': ${e.message}`, { cause: err });
    }
    const executedVersion = out.ExecutedVersion ?? qualifier ?? "$LATEST";
    const config = await this.client
      .send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: executedVersion }))
      .catch((err: Error) => {
        const code = err.name === "ResourceNotFoundException" ? "function_not_found" : "invoke_failed";
        throw new TaskFailure(code, `could not read the configuration of '${fn}': ${err.message}`, { cause: err });
      });
    const unqualified = splitFunctionRef(config.FunctionArn ?? name).name;
    const response = Buffer.from(out.Payload ?? new Uint8Array());
    return {
      functionArn: `${unqualified}:${executedVersion}`,
      executedVersion,
      codeHash: codeSha256Hex(config.CodeSha256 ?? ""),
      response,
      functionError: out.FunctionError ? functionErrorOf(response, out.FunctionError) : null,
      logTail: out.LogResult ? Buffer.from(out.LogResult, "base64").toString("utf8") : "",
      host: `AWS Lambda ${unqualified.split(":")[3] ?? ""}`.trim(),
    };
  }
}
