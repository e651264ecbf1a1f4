// Human steps on a run page: an approval with its quorum and decisions, or an input form generated from
// the node's fields. Secret fields are password inputs and never shown again.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { formatTimestamp } from "../format.ts";
import { coerceInputValues, type RawValues } from "../forms.ts";
import { can, selfApprovalBlocked } from "../permissions.ts";
import type { TaskRecord, WorkflowNode } from "../types.ts";
import { Field, FormActions, FormField, useFieldForm } from "./field.tsx";
import { ActionError, ConfirmDialog, ProgressBar, StatusBadge } from "./ui.tsx";

/** The frame of a human step: its kind, node and status in a heading row, then the node's description. */
function HumanPanel({
  kind,
  task,
  node,
  waiting,
  children,
}: {
  kind: string;
  task: TaskRecord;
  node: WorkflowNode | undefined;
  waiting: boolean;
  children: ComponentChildren;
}) {
  return (
    <section
      class={`panel human${waiting ? " is-waiting" : ""}`}
      aria-labelledby={`h-${task.nodeId}`}
      data-human={task.nodeId}
    >
      <header class="panel-head">
        <h3 id={`h-${task.nodeId}`}>
          {kind} <code>{task.nodeId}</code>
        </h3>
        <StatusBadge status={task.status} />
      </header>
      {node?.description ? <p>{node.description}</p> : null}
      {children}
    </section>
  );
}

export function ApprovalPanel({
  runId,
  startedBy,
  node,
  task,
  onDone,
}: {
  runId: string;
  /** Who started the run: unless the node allows it, they may not approve it themselves. */
  startedBy: string | null | undefined;
  node: WorkflowNode | undefined;
  task: TaskRecord;
  onDone: () => void;
}) {
  const { api, who } = useSession();
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState<"approve" | "reject" | null>(null);
  // Rejecting ends the run: it asks for a reason first, recorded as the decision's comment in the audit trail.
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [reasonError, setReasonError] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(null);
  const decisions = task.decisions ?? [];
  const needed = node?.approvers?.count ?? 1;
  const approvals = decisions.filter((d) => d.decision === "approve").length;
  const waiting = task.status === "awaiting_approval";
  const mine = decisions.find((d) => d.by === who.userId);
  const allowed = can(who.role, "decide", node?.approvers?.roles);
  const self = selfApprovalBlocked(who.userId, startedBy, node?.allowSelfApproval);
  const commentId = `comment-${task.nodeId}`;

  const decide = async (decision: "approve" | "reject") => {
    const text = decision === "reject" ? reason.trim() : comment.trim();
    if (decision === "reject" && !text) {
      setReasonError("Say why you reject it: the reason is recorded in the audit trail.");
      return;
    }
    setBusy(decision);
    setFailure(null);
    try {
      await api.decide(runId, task.nodeId, decision, text || undefined);
      setComment("");
      setReason("");
      setRejecting(false);
      onDone();
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <HumanPanel kind="Approval" task={task} node={node} waiting={waiting}>
      <div class="quorum">
        <div class="quorum-text">
          <strong data-testid="quorum">
            {approvals} of {needed}
          </strong>{" "}
          approval{needed === 1 ? "" : "s"}
          {node?.approvers?.roles ? <span class="muted"> · by {node.approvers.roles.join(" or ")}</span> : null}
          {task.waitingSince ? <span class="muted"> · waiting since {formatTimestamp(task.waitingSince)}</span> : null}
        </div>
        <ProgressBar max={needed} value={Math.min(approvals, needed)} label="Approvals so far" />
      </div>
      {decisions.length > 0 ? (
        <ul class="decisions">
          {decisions.map((d) => (
            <li key={`${d.by}-${d.at}`} class={`decision decision-${d.decision}`}>
              <span class="decision-mark" aria-hidden="true">
                {d.decision === "approve" ? "✓" : d.decision === "reject" ? "✕" : "◷"}
              </span>
              <span>
                <strong>{d.by}</strong>{" "}
                {d.decision === "approve" ? "approved" : d.decision === "reject" ? "rejected" : "timed out"}
                {d.comment ? <q class="decision-comment">{d.comment}</q> : null}
                <span class="muted"> · {formatTimestamp(d.at)}</span>
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      {waiting && allowed && !mine && !self ? (
        <>
          <form
            class="form"
            onSubmit={(e) => {
              e.preventDefault();
              void decide("approve");
            }}
          >
            <Field id={commentId} label="Comment">
              <textarea
                id={commentId}
                rows={2}
                value={comment}
                onInput={(e) => setComment((e.currentTarget as HTMLTextAreaElement).value)}
                placeholder="Why you approve, for the audit trail"
              />
            </Field>
            <ActionError error={failure} />
            <div class="form-actions">
              <button type="submit" class="btn btn-success" disabled={busy !== null}>
                {busy === "approve" ? "Approving…" : "Approve"}
              </button>
              <button
                type="button"
                class="btn btn-danger-outline"
                disabled={busy !== null}
                onClick={() => {
                  setReason(comment);
                  setReasonError(undefined);
                  setRejecting(true);
                }}
              >
                Reject…
              </button>
            </div>
          </form>
          <ConfirmDialog
            open={rejecting}
            title={`Reject ${task.nodeId}?`}
            confirmLabel={busy === "reject" ? "Rejecting…" : "Reject"}
            danger
            busy={busy !== null}
            onCancel={() => setRejecting(false)}
            onConfirm={() => void decide("reject")}
          >
            <p>A rejection fails the run; nodes not yet started are skipped. It cannot be undone.</p>
            <Field id={`${commentId}-reason`} label="Reason" required error={reasonError}>
              <textarea
                id={`${commentId}-reason`}
                rows={3}
                value={reason}
                aria-invalid={reasonError ? true : undefined}
                aria-describedby={reasonError ? `${commentId}-reason-error` : undefined}
                onInput={(e) => {
                  setReason((e.currentTarget as HTMLTextAreaElement).value);
                  setReasonError(undefined);
                }}
              />
            </Field>
            <ActionError error={failure} />
          </ConfirmDialog>
        </>
      ) : waiting && mine ? (
        <p class="muted">You have decided; waiting for others to reach the quorum.</p>
      ) : waiting && !allowed ? (
        <p class="muted">Your role ({who.role}) may not decide this step.</p>
      ) : waiting && self ? (
        <p class="muted">You started this run, so someone else has to approve it.</p>
      ) : null}
    </HumanPanel>
  );
}

export function InputPanel({
  runId,
  node,
  task,
  onDone,
}: {
  runId: string;
  node: WorkflowNode | undefined;
  task: TaskRecord;
  onDone: () => void;
}) {
  const { api, who } = useSession();
  const fields = node?.fields ?? {};
  const [raw, setRaw] = useState<RawValues>({});
  const waiting = task.status === "awaiting_input";
  const allowed = can(who.role, "input");
  const prefix = `input-${task.nodeId}-`;
  const { errors, failure, busy, submit } = useFieldForm({
    names: Object.keys(fields),
    prefix,
    coerce: () => coerceInputValues(fields, raw),
    send: async (values) => {
      await api.submitInput(runId, task.nodeId, values);
      // Secrets should not linger in the page's memory once they are sent.
      setRaw({});
      onDone();
    },
  });

  return (
    <HumanPanel kind="Input" task={task} node={node} waiting={waiting}>
      {task.submittedBy ? (
        <p class="muted">
          Submitted by <strong>{task.submittedBy}</strong>
          {task.endedAt ? ` at ${formatTimestamp(task.endedAt)}` : ""}.
        </p>
      ) : null}
      {waiting && !allowed ? <p class="muted">Your role ({who.role}) may not answer this step.</p> : null}
      {waiting && allowed ? (
        <form class="form" onSubmit={submit} aria-label={`Input for ${task.nodeId}`}>
          {Object.entries(fields).map(([key, f]) => {
            const value = raw[key];
            const setValue = (v: string | boolean) => setRaw((r) => ({ ...r, [key]: v }));
            return (
              <FormField
                key={key}
                id={`${prefix}${key}`}
                name={key}
                tag={f.secret ? `${f.type}, secret` : f.type}
                required={f.required !== false}
                hints={[
                  f.description,
                  f.pattern ? `Must match ${f.pattern}` : "",
                  f.secret ? "Secret: it is not stored in the run's context, logs or audit." : "",
                ]}
                error={errors[key]}
              >
                {(control) =>
                  f.type === "boolean" ? (
                    <span class="checkbox">
                      <input
                        {...control}
                        type="checkbox"
                        checked={value === true}
                        onChange={(e) => setValue((e.currentTarget as HTMLInputElement).checked)}
                      />
                      <span>Yes</span>
                    </span>
                  ) : f.type === "enum" ? (
                    <select
                      {...control}
                      value={String(value ?? "")}
                      required={f.required !== false}
                      onChange={(e) => setValue((e.currentTarget as HTMLSelectElement).value)}
                    >
                      <option value="">Choose…</option>
                      {(f.values ?? []).map((v) => (
                        <option key={v} value={v}>
                          {v}
                        </option>
                      ))}
                    </select>
                  ) : f.secret ? (
                    <input
                      {...control}
                      type="password"
                      autoComplete="new-password"
                      required={f.required !== false}
                      value={String(value ?? "")}
                      onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
                    />
                  ) : (
                    <input
                      {...control}
                      type="text"
                      inputMode={f.type === "number" ? "decimal" : undefined}
                      autoComplete="off"
                      required={f.required !== false}
                      value={String(value ?? "")}
                      onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
                    />
                  )
                }
              </FormField>
            );
          })}
          <FormActions failure={failure} busy={busy} label="Submit" busyLabel="Submitting…" />
        </form>
      ) : null}
    </HumanPanel>
  );
}
