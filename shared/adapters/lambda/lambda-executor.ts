import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../domain/clock.ts";
import { isoMicro } from "../../domain/clock.ts";
import { sha256 } from "../../domain/hash.ts";
import type { LambdaNode } from "../../domain/workflow.ts";
import { interpolate } from "../../engine/run-context.ts";
import { secretMasker } from "../../engine/secret-mask.ts";
import type { CostMeter } from "../../ports/metrics.ts";
import {
  LOG_HEAD_BYTES,
  type StartResult,
  type TaskExecutor,
  type TaskOutcome,
  type TaskRequest,
} from "../../ports/task-executor.ts";
import { typedResult } from "../process/task-output.ts";
import type { LambdaInvoker } from "./lambda-invoker.ts";

/** Interpolates `${context.x}`, `${params.y}`, `${run.z}` inside every string of a payload. */
export function interpolatePayload(value: unknown, scope: Parameters<typeof interpolate>[1]): unknown {
  if (typeof value === "string") return interpolate(value, scope);
  if (Array.isArray(value)) return value.map((v) => interpolatePayload(v, scope));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolatePayload(v, scope)]));
  return value;
}

/** lambda nodes: one RequestResponse invoke inside the Advance call, its answer the attempt's outcome. */
export class LambdaExecutor implements TaskExecutor<LambdaNode> {
  constructor(
    private readonly invoker: LambdaInvoker,
    private readonly workRoot: string,
    private readonly clock: Clock,
    private readonly meter?: CostMeter,
  ) {}

  async start(req: TaskRequest<LambdaNode>): Promise<StartResult> {
    const node = req.node;
    const scope = { context: req.context, params: req.params, run: req.run };
    const payload =
      node.payload === undefined
        ? { params: req.params, context: req.context, run: req.run }
        : interpolatePayload(node.payload, scope);
    const bytes = Buffer.from(JSON.stringify(payload));
    const mask = secretMasker(req.secrets);
    const startMs = this.clock.nowMs();
    if (this.meter) this.meter.lambdaInvokes++;
    const inv = await this.invoker.invoke(node.function, bytes, req.timeoutMs);
    const endMs = this.clock.nowMs();
    await mkdir(this.workRoot, { recursive: true });
    const dir = await mkdtemp(join(this.workRoot, `${req.run.id}-${req.run.nodeId}-`));
    const outDir = join(dir, "out");
    await mkdir(outDir);
    const responseHash = sha256(inv.response);
    const lines = [
      ...inv.logTail
        .split("\n")
        .filter((l, i, all) => l !== "" || i < all.length - 1)
        .map((l) => `o|${mask(l)}`),
      `e|stepwise: invoked ${inv.functionArn}; response ${responseHash} (${inv.response.length} bytes)`,
    ];
    const log = `${lines.join("\n")}\n`;
    const logPath = join(dir, "task.log");
    await writeFile(logPath, log);
    const stdout = mask(inv.logTail);
    const base = {
      exitCode: null,
      stdoutHead: Buffer.from(stdout)
        .subarray(Math.max(0, Buffer.byteLength(stdout) - LOG_HEAD_BYTES))
        .toString("utf8"),
      stderrHead: `stepwise: response ${responseHash} (${inv.response.length} bytes)\n`,
      logPath,
      logBytes: Buffer.byteLength(log),
      logSha256: sha256(log),
      liveCopied: false,
      image: inv.functionArn,
      imageHash: inv.codeHash,
      command: node.function,
      codeHash: sha256(bytes),
      startedAt: isoMicro(startMs),
      endedAt: isoMicro(endMs),
      durationMs: Math.round((endMs - startMs) * 1000) / 1000,
      host: inv.host,
      outDir,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
    const fail = (code: string, message: string): TaskOutcome => ({
      ...base,
      status: "failed",
      error: { code, message },
      noActionReason: null,
      outputVariables: {},
    });
    if (inv.functionError)
      return {
        kind: "finished",
        outcome: fail("function_error", `${inv.functionError.type}: ${inv.functionError.message}`),
      };
    try {
      const parsed = inv.response.length ? (JSON.parse(inv.response.toString("utf8")) as unknown) : null;
      const typed = typedResult(parsed);
      if (typed.noAction)
        return {
          kind: "finished",
          outcome: {
            ...base,
            status: "no_action",
            error: null,
            noActionReason: typed.noAction,
            outputVariables: typed.vars,
          },
        };
      return {
        kind: "finished",
        outcome: { ...base, status: "succeeded", error: null, noActionReason: null, outputVariables: typed.vars },
      };
    } catch (err) {
      return {
        kind: "finished",
        outcome: fail("invalid_output", `the function's response: ${(err as Error).message}`),
      };
    }
  }

  /** Before an invoke, what ran is unknown: the function as written. */
  async runtimeOf(node: LambdaNode) {
    return { image: node.function, imageHash: "" };
  }
}
