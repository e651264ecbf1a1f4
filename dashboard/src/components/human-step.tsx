// Human steps on a run page: an approval with its quorum and decisions, or an input form generated from
// the node's fields. Secret fields are password inputs and never shown again.
import { useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { useSession } from "../context.ts";
import { formatTimestamp } from "../format.ts";
import { coerceInputValues, fieldErrorsFromDetails, type RawValues } from "../forms.ts";
import { can, selfApprovalBlocked } from "../permissions.ts";
import type { TaskRecord, WorkflowNode } from "../types.ts";
import { describedBy, Field } from "./field.tsx";
import { focusFirstError } from "./trigger-form.tsx";
import { ActionError, ProgressBar, StatusBadge } from "./ui.tsx";

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
    setBusy(decision);
    setFailure(null);
    try {
      await api.decide(runId, task.nodeId, decision, comment.trim() || undefined);
      setComment("");
      onDone();
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section
      class={`panel human${waiting ? " is-waiting" : ""}`}
      aria-labelledby={`h-${task.nodeId}`}
      data-human={task.nodeId}
    >
      <header class="panel-head">
        <h3 id={`h-${task.nodeId}`}>
          Approval <code>{task.nodeId}</code>
        </h3>
        <StatusBadge status={task.status} />
      </header>
      {node?.description ? <p>{node.description}</p> : null}
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
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            void decide("approve");
          }}
        >
          <div class="field">
            <label for={commentId} class="field-label">
              <span class="field-name">Comment</span>
              <span class="field-optional">optional</span>
            </label>
            <textarea
              id={commentId}
              rows={2}
              value={comment}
              onInput={(e) => setComment((e.currentTarget as HTMLTextAreaElement).value)}
              placeholder="Why you approve or reject, for the audit trail"
            />
          </div>
          <ActionError error={failure} />
          <div class="form-actions">
            <button type="submit" class="btn btn-success" disabled={busy !== null}>
              {busy === "approve" ? "Approving…" : "Approve"}
            </button>
            <button
              type="button"
              class="btn btn-danger-outline"
              disabled={busy !== null}
              onClick={() => void decide("reject")}
            >
              {busy === "reject" ? "Rejecting…" : "Reject"}
            </button>
          </div>
        </form>
      ) : waiting && mine ? (
        <p class="muted">You have decided; waiting for others to reach the quorum.</p>
      ) : waiting && !allowed ? (
        <p class="muted">Your role ({who.role}) may not decide this step.</p>
      ) : waiting && self ? (
        <p class="muted">You started this run, so someone else has to approve it.</p>
      ) : null}
    </section>
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
  const names = Object.keys(fields);
  const [raw, setRaw] = useState<RawValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const waiting = task.status === "awaiting_input";
  const allowed = can(who.role, "input");
  const prefix = `input-${task.nodeId}-`;

  const submit = async (e: Event) => {
    e.preventDefault();
    const { values, errors: local } = coerceInputValues(fields, raw);
    setErrors(local);
    setFailure(null);
    if (Object.keys(local).length > 0) {
      focusFirstError(local, names, prefix);
      return;
    }
    setBusy(true);
    try {
      await api.submitInput(runId, task.nodeId, values);
      // Secrets should not linger in the page's memory once they are sent.
      setRaw({});
      onDone();
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        const { byField, other } = fieldErrorsFromDetails(err.details, names);
        setErrors(byField);
        focusFirstError(byField, names, prefix);
        if (other.length > 0 || Object.keys(byField).length === 0) setFailure(err);
      } else {
        setFailure(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section
      class={`panel human${waiting ? " is-waiting" : ""}`}
      aria-labelledby={`h-${task.nodeId}`}
      data-human={task.nodeId}
    >
      <header class="panel-head">
        <h3 id={`h-${task.nodeId}`}>
          Input <code>{task.nodeId}</code>
        </h3>
        <StatusBadge status={task.status} />
      </header>
      {node?.description ? <p>{node.description}</p> : null}
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
            const id = `${prefix}${key}`;
            const error = errors[key];
            const hint = [
              f.description,
              f.pattern ? `Must match ${f.pattern}` : "",
              f.secret ? "Secret: it is not stored in the run's context, logs or audit." : "",
            ]
              .filter(Boolean)
              .join(" · ");
            const common = {
              id,
              name: key,
              "aria-invalid": error ? true : undefined,
              "aria-describedby": describedBy(id, hint, error),
            };
            const value = raw[key];
            const setValue = (v: string | boolean) => setRaw((r) => ({ ...r, [key]: v }));
            return (
              <Field
                key={key}
                id={id}
                label={key}
                tag={f.secret ? `${f.type}, secret` : f.type}
                required={f.required}
                hint={hint}
                error={error}
              >
                {f.type === "boolean" ? (
                  <span class="checkbox">
                    <input
                      {...common}
                      type="checkbox"
                      checked={value === true}
                      onChange={(e) => setValue((e.currentTarget as HTMLInputElement).checked)}
                    />
                    <span>Yes</span>
                  </span>
                ) : f.type === "enum" ? (
                  <select
                    {...common}
                    value={String(value ?? "")}
                    required={f.required}
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
                    {...common}
                    type="password"
                    autoComplete="new-password"
                    required={f.required}
                    value={String(value ?? "")}
                    onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
                  />
                ) : (
                  <input
                    {...common}
                    type="text"
                    inputMode={f.type === "number" ? "decimal" : undefined}
                    autoComplete="off"
                    required={f.required}
                    value={String(value ?? "")}
                    onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
                  />
                )}
              </Field>
            );
          })}
          <ActionError error={failure} />
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={busy}>
              {busy ? "Submitting…" : "Submit"}
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
