import type { Deps } from "../deps.ts";
import { isoMicro, parseIsoMicro } from "../domain/clock.ts";
import { hashJson } from "../domain/hash.ts";
import {
  type Decision,
  isTerminalRun,
  type Principal,
  type Role,
  type TaskRecord,
  type TypedValue,
} from "../domain/records.ts";
import { durationBetween, humanDeadline, stripAttempt } from "../domain/task-records.ts";
import type { ApprovalNode, HumanNode, InputNode } from "../domain/workflow.ts";
import { deriveContext } from "../engine/run-context.ts";
import { ConflictError, type ErrorDetail, ForbiddenError, NotFoundError, ValidationError } from "../errors.ts";
import type { RunState } from "../ports/run-store.ts";
import { RunSession } from "../run-session.ts";
import { definitionOf, loadRunOr404 } from "../runs/runs.ts";
import { rejectWait, wakeRun } from "../runs/state-machine-tasks.ts";
import { deleteRunSecrets, storeSecrets } from "./secrets.ts";

const DEFAULT_APPROVER_ROLES: Role[] = ["approver", "admin"];
const INPUT_ROLES: Role[] = ["operator", "approver", "admin"];
/** Who may answer an input step: the node's `roles` narrows the default (operator, approver, admin). */
const inputRoles = (node: InputNode): Role[] => node.roles ?? INPUT_ROLES;

/**
 * Refuses a decision or input once a cancel was accepted. The cancel request is one audited write (the audit
 * write is the lock): a decision built on a state that already holds it loses; one committed first wins.
 */
function refuseAfterCancel(s: RunState): void {
  if (s.run.cancelRequest) throw new ConflictError(`run ${s.run.runId} was cancelled by ${s.run.cancelRequest.by}`);
}

/** "an approval", "an input", "a script": the type with its article, for messages. */
const articled = (word: string) => `${/^[aeiou]/.test(word) ? "an" : "a"} ${word}`;

/** An answer that came after the step's deadline: the timeout wins even if the engine has not applied it yet. */
class HumanStepTimedOutError extends ConflictError {}

/**
 * Refuses an answer once the step's deadline (waitingSince + timeoutSeconds) has passed by the injected clock.
 * Without this, a decision landing between the deadline and the engine's timeout would still win.
 */
function refuseAfterDeadline(node: HumanNode, task: TaskRecord | undefined, nowMs: number): void {
  if (task?.status !== "awaiting_approval" && task?.status !== "awaiting_input") return;
  const deadline = humanDeadline(node, task);
  if (deadline === null || nowMs < deadline) return;
  const outcome =
    node.type === "approval"
      ? `'${node.id}' no longer takes decisions (onTimeout: ${node.onTimeout ?? "reject"})`
      : `'${node.id}' no longer takes values; the run fails`;
  throw new HumanStepTimedOutError(`the ${node.type} timed out at ${isoMicro(deadline)}: ${outcome}`);
}

/** Runs an answer's write; a late answer wakes the run so the engine applies onTimeout now, then gets its 409. */
async function beforeDeadline<T>(deps: Deps, orgId: string, runId: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof HumanStepTimedOutError) await wakeRun(deps, orgId, runId).catch(() => {});
    throw err;
  }
}

async function humanNode<T extends "approval" | "input">(
  deps: Deps,
  p: Principal,
  runId: string,
  nodeId: string,
  type: T,
) {
  const state = await loadRunOr404(deps, p, runId);
  const def = await definitionOf(deps, state.run);
  const node = def.nodes.find((n) => n.id === nodeId);
  if (!node) throw new NotFoundError(`node '${nodeId}' not found in this run`);
  if (node.type !== type)
    throw new ConflictError(`node '${nodeId}' is ${articled(node.type)} node, not ${articled(type)}`);
  return { state, node: node as T extends "approval" ? ApprovalNode : InputNode };
}

/** The hash of the context a person saw when deciding, kept in the audit trail. */
const contextHashOf = (tasks: Iterable<TaskRecord>) => hashJson(deriveContext(tasks));

/** Records an approve or reject; the quorum of distinct people completes the step, one reject fails it. */
export async function decide(
  deps: Deps,
  p: Principal,
  runId: string,
  nodeId: string,
  body: { decision: "approve" | "reject"; comment?: string },
) {
  const { state, node } = await humanNode(deps, p, runId, nodeId, "approval");
  const roles = node.approvers?.roles ?? DEFAULT_APPROVER_ROLES;
  if (!roles.includes(p.role))
    throw new ForbiddenError(`the ${p.role} role may not decide '${nodeId}' (allowed: ${roles.join(", ")})`);
  const triggeredBy = state.run.trigger.userId ?? state.run.createdBy;
  if (!node.allowSelfApproval && p.userId === triggeredBy) {
    throw new ForbiddenError(`'${p.userId}' started this run and may not approve it (allowSelfApproval is off)`);
  }
  const session = new RunSession(deps, state);
  const required = node.approvers?.count ?? 1;
  // setTask spreads the detail into the audit event after the builder ran: the builder fills in the hash of the
  // context as of this very commit (a retry after another writer recomputes it), the same one kept on the decision.
  const detail: Record<string, unknown> = { decision: body.decision, comment: body.comment ?? null, required };
  const build = (cur: TaskRecord, s: RunState): TaskRecord => {
    refuseAfterCancel(s);
    if (cur.status !== "awaiting_approval")
      throw new ConflictError(`'${nodeId}' is not awaiting approval (it is ${cur.status})`);
    const decisions = cur.decisions ?? [];
    if (decisions.some((d) => d.by === p.userId))
      throw new ConflictError(`'${p.userId}' has already decided '${nodeId}'`);
    const nowMs = deps.clock.nowMs();
    refuseAfterDeadline(node, cur, nowMs);
    const at = isoMicro(nowMs);
    const contextHash = contextHashOf(s.tasks.values());
    detail.contextHash = contextHash;
    const decision: Decision = {
      by: p.userId,
      role: p.role,
      decision: body.decision,
      comment: body.comment ?? null,
      at,
      contextHash,
    };
    const all = [...decisions, decision];
    const approvals = all.filter((d) => d.decision === "approve").length;
    const next: TaskRecord = { ...cur, decisions: all };
    if (body.decision === "reject") {
      Object.assign(next, {
        status: "failed",
        endedAt: at,
        durationMs: durationBetween(cur.startedAt, at),
        error: {
          code: "rejected",
          message: `rejected by ${p.userId}${body.comment ? `: ${body.comment}` : ""}`,
          nodeId,
        },
      });
    } else if (approvals >= required) {
      Object.assign(next, { status: "succeeded", endedAt: at, durationMs: durationBetween(cur.startedAt, at) });
    }
    if (next.status !== "awaiting_approval") next.attempts = [stripAttempt(next)];
    return next;
  };
  const change = await beforeDeadline(deps, p.orgId, runId, () =>
    session.setTask(node, "approval.decision", build, p.userId, detail),
  );
  const task = session.state.tasks.get(nodeId) as TaskRecord;
  if (task.status === "failed") await rejectWait(deps, p.orgId, runId, `rejected by ${p.userId} at step '${nodeId}'`);
  else if (task.status !== "awaiting_approval") await wakeRun(deps, p.orgId, runId);
  const decision = (change?.next as TaskRecord | undefined)?.decisions?.at(-1);
  return {
    runId,
    nodeId,
    status: task.status,
    decision: body.decision,
    approvals: { required, received: (task.decisions ?? []).filter((d) => d.decision === "approve").length },
    contextHash: decision?.contextHash ?? null,
  };
}

/** Checks submitted values against an input node's fields; every problem names its field. */
export function validateInput(node: InputNode, values: unknown): Record<string, string | number | boolean> {
  if (!values || typeof values !== "object" || Array.isArray(values)) {
    throw new ValidationError("values must be an object", [
      { path: "values", message: "must be an object of field values" },
    ]);
  }
  const given = values as Record<string, unknown>;
  const details: ErrorDetail[] = [];
  const out: Record<string, string | number | boolean> = {};
  for (const key of Object.keys(given)) {
    if (!(key in node.fields))
      details.push({ path: `values.${key}`, message: `'${key}' is not a field of '${node.id}'` });
  }
  for (const [field, spec] of Object.entries(node.fields)) {
    const v = given[field];
    const path = `values.${field}`;
    if (v === undefined || v === null || v === "") {
      if (spec.required !== false) details.push({ path, message: `'${field}' is required` });
      continue;
    }
    if (spec.type === "number") {
      if (typeof v !== "number" || !Number.isFinite(v)) details.push({ path, message: `'${field}' must be a number` });
      else out[field] = v;
      continue;
    }
    if (spec.type === "boolean") {
      if (typeof v !== "boolean") details.push({ path, message: `'${field}' must be true or false` });
      else out[field] = v;
      continue;
    }
    if (typeof v !== "string") {
      details.push({ path, message: `'${field}' must be a string` });
      continue;
    }
    if (spec.type === "enum" && !(spec.values ?? []).includes(v)) {
      details.push({ path, message: `'${field}' must be one of ${(spec.values ?? []).join(", ")}` });
      continue;
    }
    if (spec.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(v)) {
      details.push({
        path,
        message: `'${field}' does not match the pattern ${spec.secret ? "(value hidden)" : spec.pattern}`,
      });
      continue;
    }
    out[field] = v;
  }
  if (details.length) throw new ValidationError(details.map((d) => d.message).join("; "), details);
  return out;
}

/** Accepts an input step's values: plain ones go to the context as `<nodeId>.<field>`, secret ones are sealed. */
export async function submitInput(deps: Deps, p: Principal, runId: string, nodeId: string, values: unknown) {
  if (!INPUT_ROLES.includes(p.role)) throw new ForbiddenError(`the ${p.role} role may not answer input steps`);
  const { state, node } = await humanNode(deps, p, runId, nodeId, "input");
  const roles = inputRoles(node);
  if (!roles.includes(p.role))
    throw new ForbiddenError(`the ${p.role} role may not answer '${nodeId}' (allowed: ${roles.join(", ")})`);
  refuseAfterCancel(state);
  const current = state.tasks.get(nodeId);
  if (current?.status !== "awaiting_input")
    throw new ConflictError(`'${nodeId}' is not awaiting input (it is ${current?.status ?? "pending"})`);
  // Checked before the secrets are sealed, so a late answer leaves nothing behind.
  await beforeDeadline(deps, p.orgId, runId, async () => refuseAfterDeadline(node, current, deps.clock.nowMs()));
  const valid = validateInput(node, values);
  const secrets: Record<string, string> = {};
  const outputs: Record<string, TypedValue> = {};
  for (const [field, value] of Object.entries(valid)) {
    if (node.fields[field]?.secret) secrets[field] = String(value);
    else
      outputs[`${nodeId}.${field}`] = {
        type: typeof value === "string" ? "string" : (typeof value as "number" | "boolean"),
        value,
      };
  }
  // Sealed before the step completes, so the next node always finds them.
  if (Object.keys(secrets).length) await storeSecrets(deps, p.orgId, runId, nodeId, secrets);
  const session = new RunSession(deps, state);
  // As for decisions: the builder records the hash of the context as of the commit that accepts the values.
  const detail: Record<string, unknown> = {
    fields: Object.keys(valid).map((f) => (node.fields[f]?.secret ? `${f} (secret)` : f)),
  };
  const build = (cur: TaskRecord, s: RunState): TaskRecord => {
    refuseAfterCancel(s);
    if (cur.status !== "awaiting_input")
      throw new ConflictError(`'${nodeId}' is not awaiting input (it is ${cur.status})`);
    const nowMs = deps.clock.nowMs();
    refuseAfterDeadline(node, cur, nowMs);
    detail.contextHash = contextHashOf(s.tasks.values());
    const at = isoMicro(nowMs);
    const next: TaskRecord = {
      ...cur,
      status: "succeeded",
      endedAt: at,
      durationMs: durationBetween(cur.startedAt, at),
      outputVariables: outputs,
      contextSeq: s.head.seq + 1,
      submittedBy: p.userId,
    };
    return { ...next, attempts: [stripAttempt(next)] };
  };
  try {
    await beforeDeadline(deps, p.orgId, runId, () => session.setTask(node, "input.submitted", build, p.userId, detail));
  } catch (err) {
    // A cancel that won meanwhile may have ended the run (and cleared its secrets) before these were sealed.
    if (Object.keys(secrets).length && isTerminalRun((await deps.store.getRunStatus(p.orgId, runId)) ?? "failed"))
      await deleteRunSecrets(deps, p.orgId, runId);
    throw err;
  }
  await wakeRun(deps, p.orgId, runId);
  return { runId, nodeId, status: "succeeded" as const, context: Object.keys(outputs) };
}

/** The org's human steps that wait for someone: run, node, what is asked, since when, who may answer. */
export async function listApprovals(
  deps: Deps,
  p: Principal,
  status: string | undefined,
  page: { limit: number; cursor?: string | null },
) {
  if (status !== undefined && status !== "pending") {
    throw new ValidationError("status must be 'pending'", [{ path: "status", message: "only pending is supported" }]);
  }
  const res = await deps.store.listWaitingHumanSteps(p.orgId, page);
  // One load per run, all at once: a page of waiting steps costs one round trip of reads, not one per step.
  const runIds = [...new Set(res.items.map((t) => t.runId))];
  const loaded = await Promise.all(runIds.map((id) => deps.store.loadRun(p.orgId, id)));
  const states = new Map(runIds.map((id, i) => [id, loaded[i]]));
  const byHash = new Map(loaded.flatMap((st) => (st ? [[st.run.workflow.definitionHash, st.run] as const] : [])));
  const defList = await Promise.all([...byHash.values()].map((run) => definitionOf(deps, run)));
  const defs = new Map([...byHash.keys()].map((h, i) => [h, defList[i]]));
  const items = [];
  for (const t of res.items) {
    const state = states.get(t.runId);
    if (!state) continue;
    const runId = t.runId;
    const def = defs.get(state.run.workflow.definitionHash);
    if (!def) continue;
    const node = def.nodes.find((n) => n.id === t.nodeId);
    if (!node || (node.type !== "approval" && node.type !== "input")) continue;
    const task = state.tasks.get(node.id);
    if (task?.status !== "awaiting_approval" && task?.status !== "awaiting_input") continue;
    const base = {
      runId,
      nodeId: node.id,
      type: node.type,
      workflow: state.run.workflow,
      description: node.description ?? null,
      since: task.waitingSince,
      timeoutAt:
        node.timeoutSeconds && task.waitingSince
          ? isoMicro(parseIsoMicro(task.waitingSince) + node.timeoutSeconds * 1000)
          : null,
      triggeredBy: state.run.trigger.userId ?? state.run.createdBy,
    };
    if (node.type === "approval") {
      items.push({
        ...base,
        whoMayAnswer: node.approvers?.roles ?? DEFAULT_APPROVER_ROLES,
        allowSelfApproval: node.allowSelfApproval ?? false,
        onTimeout: node.onTimeout ?? "reject",
        approvals: {
          required: node.approvers?.count ?? 1,
          received: (task.decisions ?? []).filter((d) => d.decision === "approve").length,
          decisions: (task.decisions ?? []).map((d) => ({
            by: d.by,
            decision: d.decision,
            comment: d.comment,
            at: d.at,
          })),
        },
      });
    } else {
      items.push({ ...base, whoMayAnswer: inputRoles(node), fields: node.fields });
    }
  }
  return { items, nextCursor: res.nextCursor };
}
