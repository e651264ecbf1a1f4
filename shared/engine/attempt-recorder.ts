import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { isoMicro } from "../domain/clock.ts";
import { sha256 } from "../domain/hash.ts";
import type { AttemptRecord, RunError, TaskRecord } from "../domain/records.ts";
import { ContextTypeError, SecretInOutputError, TaskFailureError } from "../errors.ts";
import { type ExecutableNode, LOG_HEAD_BYTES, type TaskExecutor, type TaskOutcome } from "../ports/task-executor.ts";
import { ENGINE_ACTOR, type RunSession } from "../run-session.ts";
import { putLocalFile } from "./put-local-file.ts";
import { deriveContext, typeConflicts } from "./run-context.ts";
import { maskOutputVariables, secretMasker } from "./secret-mask.ts";
import { logKey } from "./storage-keys.ts";

/** Logs up to this size are kept in the attempt record; larger ones go to S3 as their own object. */
const LOG_INLINE_BYTES = 1024;

/** What recording an attempt means for the rest of the call. */
export type Recorded =
  | { kind: "skipped" }
  | { kind: "retry"; backoffMs: number }
  | {
      kind: "ended";
      status: "succeeded" | "failed" | "cancelled" | "no_action";
      error: RunError | null;
      reason: string | null;
    };

/** A task record without the handle of an external attempt (it ended). */
function withoutExternal(task: TaskRecord): TaskRecord {
  const { external: _ended, retryDueAt: _due, ...rest } = task;
  return rest;
}

/** A task record whose retry started (its backoff is over). */
export function withoutRetryDue(task: TaskRecord): TaskRecord {
  const { retryDueAt: _due, ...rest } = task;
  return rest;
}

/** The log as text when it is UTF-8 and still hashes to what the runner recorded; null to store it as an object. */
async function readInlineLog(path: string, expectedSha256: string): Promise<string | null> {
  const bytes = await readFile(path);
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) && sha256(bytes) === expectedSha256 ? text : null;
}

/** A thrown error as the task error it records: typed failures keep their code. */
export function setupFailure(err: unknown): { code: string; message: string; final: boolean } {
  const message = (err as Error).message;
  return err instanceof TaskFailureError
    ? { code: err.code, message, final: err.final }
    : { code: "setup_failed", message, final: false };
}

/** Where the attempt's log goes: in the record when small and UTF-8, else its own object. */
async function storeLog(
  session: RunSession,
  node: ExecutableNode,
  attempt: number,
  outcome: TaskOutcome,
): Promise<{ key: string | null; inline: string | null }> {
  const { orgId, runId } = session.run;
  if (outcome.logBytes <= 0) return { key: null, inline: null };
  // A short log rides in the attempt record (hash and all) instead of costing an S3 PUT of its own.
  const inline = outcome.logBytes <= LOG_INLINE_BYTES ? await readInlineLog(outcome.logPath, outcome.logSha256) : null;
  if (inline === null) {
    const key = logKey(orgId, runId, node.id, attempt);
    await putLocalFile(session.deps.blobs, key, outcome.logPath, outcome.logBytes, "text/plain; charset=utf-8");
    return { key, inline: null };
  }
  // The live copy published while it ran is not needed: the record holds the log now.
  if (outcome.liveCopied) await session.deps.blobs.delete(logKey(orgId, runId, node.id, attempt)).catch(() => {});
  return { key: null, inline };
}

/**
 * Turns an executor's outcome (or the error that kept the attempt from starting) into the task's records: the
 * attempt's evidence, its out/ files, its output variables (masked), then a retry, or the task's end.
 */
export async function recordAttempt(
  session: RunSession,
  node: ExecutableNode,
  attempt: number,
  executor: TaskExecutor<ExecutableNode>,
  outcome: TaskOutcome | null,
  setupError: { code: string; message: string; final: boolean } | null,
  secrets: Record<string, string>,
  /** Outside an Advance call no timer holds the backoff: the record keeps when the retry is due. */
  options: { backoffInRecord?: boolean } = {},
): Promise<Recorded> {
  const deps = session.deps;
  if (deps.stopping?.aborted) return { kind: "skipped" };
  const s = session;
  const hooks = deps.files;
  // A later node that got a secret may pass it on (return it, echo it to $STEPWISE_OUTPUT, quote it in an error):
  // what is recorded carries the mask the logs use, never the value.
  const mask = secretMasker(secrets);
  const log = outcome ? await storeLog(session, node, attempt, outcome) : { key: null, inline: null };
  let status = outcome?.status ?? "failed";
  let error: RunError | null = outcome?.error ? { ...outcome.error, nodeId: node.id } : null;
  // Failures that another attempt would only repeat are not retried.
  let final = false;
  if (setupError) {
    error = { code: setupError.code, message: setupError.message, nodeId: node.id };
    final = setupError.final;
  }
  let outputs: AttemptRecord["outputs"] = [];
  // Every attempt that ran keeps the evidence of what it wrote, failed ones too; only a succeeded attempt's files
  // become run files that later nodes read (currentFiles).
  if (outcome && hooks?.collectOutputs) {
    try {
      outputs = await hooks.collectOutputs(s.state, node, outcome, secrets);
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof SecretInOutputError && status !== "cancelled") {
        // A file holding a secret fails the attempt whatever its exit: storing it would store the secret.
        status = "failed";
        final = true;
        error = {
          code: err.code,
          message: error ? `${message} (the task also failed: ${error.message})` : message,
          nodeId: node.id,
        };
      } else if (status === "succeeded" || status === "no_action") {
        status = "failed";
        error = { code: "output_files", message, nodeId: node.id };
      } else if (error) {
        error = { ...error, message: `${error.message} (its out/ files were not recorded: ${message})` };
      }
    }
  }
  const masked = maskOutputVariables(outcome?.outputVariables ?? {}, secrets);
  if (status === "succeeded" || status === "no_action") {
    const conflicts = typeConflicts(deriveContext(s.state.tasks.values()), masked.vars);
    if (conflicts.length) {
      const typeError = new ContextTypeError(conflicts.join("; "));
      status = "failed";
      final = typeError.final;
      error = { code: typeError.code, message: typeError.message, nodeId: node.id };
    }
  }
  if (error) error = { ...error, message: mask(error.message) };
  const noActionReason = outcome?.noActionReason ? mask(outcome.noActionReason) : null;
  // An attempt that failed before it started still records what it would have run, and where.
  const runtime = outcome ?? (await executor.runtimeOf(node));
  const now = deps.clock.nowMs();
  const attemptRecord: AttemptRecord = {
    attempt,
    status: status === "no_action" ? "succeeded" : status,
    image: runtime.image,
    imageHash: runtime.imageHash,
    command: outcome?.command ?? (node.type === "command" ? node.command : null),
    codeHash: outcome?.codeHash ?? sha256(node.type === "command" ? node.command : node.code),
    inputs: hooks?.inputsOf ? hooks.inputsOf(s.state, node) : [],
    outputs,
    outputVariables: status === "failed" ? {} : masked.vars,
    // Names only: tells whoever reads the context why a value shows the mask.
    ...(status !== "failed" && masked.masked.length ? { maskedOutputs: masked.masked } : {}),
    exitCode: outcome?.exitCode ?? null,
    stdout: outcome?.stdoutHead.slice(0, LOG_HEAD_BYTES) ?? "",
    stderr: outcome?.stderrHead.slice(0, LOG_HEAD_BYTES) ?? "",
    logKey: log.key,
    ...(log.inline !== null ? { logInline: log.inline } : {}),
    logSha256: log.key || log.inline !== null ? (outcome?.logSha256 ?? null) : null,
    startedAt: outcome?.startedAt ?? isoMicro(now),
    endedAt: outcome?.endedAt ?? isoMicro(now),
    durationMs: outcome?.durationMs ?? 0,
    host: outcome?.host ?? hostname(),
    error,
  };
  const failedSoFar = s.task(node).attempts.filter((a) => a.status === "failed").length + (status === "failed" ? 1 : 0);
  const maxAttempts = node.retry?.maxAttempts ?? 1;
  if (status === "failed" && failedSoFar < maxAttempts && !final) {
    const backoffMs = (node.retry?.backoffSeconds ?? 1) * 2 ** (failedSoFar - 1) * 1000;
    const due = options.backoffInRecord ? { retryDueAt: isoMicro(now + backoffMs) } : {};
    await s.setTask(
      node,
      "task.retry",
      (cur) =>
        cur.status === "running"
          ? {
              ...withoutExternal(cur),
              ...attemptRecord,
              status: "running",
              attempt: attempt + 1,
              attempts: [...cur.attempts, attemptRecord],
              ...due,
            }
          : null,
      ENGINE_ACTOR,
      { attempt, error: error?.message },
    );
    return { kind: "retry", backoffMs };
  }
  const final_ = status === "no_action" ? "succeeded" : status;
  // A cancel that landed while the process ran already ended the task: keep the attempt's evidence anyway.
  if (s.task(node).status === "cancelled") {
    await s.setTask(node, "task.evidence", (cur) =>
      cur.attempts.some((a) => a.attempt === attempt)
        ? null
        : {
            ...cur,
            ...attemptRecord,
            status: "cancelled",
            attempt,
            attempts: [...cur.attempts, { ...attemptRecord, status: "cancelled" }],
          },
    );
    return { kind: "ended", status: "cancelled", error: null, reason: null };
  }
  await s.setTask(node, "task.transition", (cur, st) => {
    if (cur.status !== "running") return null;
    return {
      ...withoutExternal(cur),
      ...attemptRecord,
      status: final_,
      attempt,
      attempts: [...cur.attempts, attemptRecord],
      contextSeq: final_ === "succeeded" ? st.head.seq + 1 : null,
      noActionReason: status === "no_action" ? noActionReason : null,
    };
  });
  return { kind: "ended", status, error, reason: noActionReason };
}
