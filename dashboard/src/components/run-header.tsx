// The head of a run page: id, status, workflow, where it is now, its facts, and the run-level actions (cancel,
// rerun, export) behind confirmations.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { describeTrigger, durationBetween, formatDuration, formatTimestamp } from "../format.ts";
import { can } from "../permissions.ts";
import { formatRoute } from "../router.ts";
import { saveBlob, saveUrl } from "../save-blob.ts";
import type { Run } from "../types.ts";
import { isTerminalRun } from "../types.ts";
import { Field } from "./field.tsx";
import { RestartButton, RunOperationFacts } from "./run-operations.tsx";
import { ActionError, ConfirmDialog, Fact, Hash, StatusBadge } from "./ui.tsx";

/** The run's title, status, facts and actions. */
export function RunHeader({ run, now, reload }: { run: Run; now: number; reload: () => void }) {
  const { api, who } = useSession();
  const [confirm, setConfirm] = useState<"cancel" | "rerun" | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [reason, setReason] = useState("");
  const live = !isTerminalRun(run.status);
  const duration = durationBetween(run.startedAt, run.completedAt, live ? now * 1000 : undefined);

  const [exporting, setExporting] = useState<string | null>(null);
  // The server builds the bundle (any size), then hands back a presigned URL the browser can follow as a plain
  // link; without one, the bytes are fetched with the bearer key and handed over.
  const exportBundle = async () => {
    setExporting("Exporting…");
    setFailure(null);
    try {
      const started = Date.now();
      let status = await api.startExport(run.runId);
      while (status.status === "pending" || status.status === "building") {
        await new Promise((r) => setTimeout(r, 1000));
        status = await api.exportStatus(run.runId, status.exportId);
        setExporting(`Exporting… ${status.status} (${Math.round((Date.now() - started) / 1000)} s)`);
      }
      if (status.status === "failed") throw new Error(`The export failed: ${status.error ?? "unknown error"}`);
      if (status.url) saveUrl(status.url, `${run.runId}.tar.gz`);
      else saveBlob(await api.exportedBundle(run.runId, status.exportId), `${run.runId}.tar.gz`);
    } catch (err) {
      setFailure(err);
    } finally {
      setExporting(null);
    }
  };

  const act = async () => {
    setBusy(true);
    setFailure(null);
    try {
      if (confirm === "cancel") {
        await api.cancelRun(run.runId, reason.trim() || undefined);
        reload();
      } else if (confirm === "rerun") {
        const result = await api.rerun(run.runId);
        window.location.hash = formatRoute({ page: "run", runId: result.runId, tab: "overview" });
      }
      setConfirm(null);
      setReason("");
    } catch (err) {
      setFailure(err);
      setConfirm(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <header class="run-head">
      <div class="page-head">
        <div>
          <h1 class="run-title">
            <span class="mono">{run.runId}</span>
            <StatusBadge status={run.status} size="lg" />
          </h1>
          <p class="lead">
            <a href={formatRoute({ page: "workflow", name: run.workflow.name, tab: "overview" })}>
              {run.workflow.name}
            </a>{" "}
            <span class="version">v{run.workflow.version}</span>
            {run.currentStateName ? (
              <>
                {" "}
                · now at <code data-testid="current-state">{run.currentStateName}</code>
              </>
            ) : null}
          </p>
        </div>
        <div class="actions">
          {live && can(who.role, "cancel") ? (
            <button type="button" class="btn btn-danger-outline" onClick={() => setConfirm("cancel")}>
              Cancel run
            </button>
          ) : null}
          {live ? null : (
            <button
              type="button"
              class="btn btn-secondary"
              disabled={exporting !== null}
              onClick={() => void exportBundle()}
            >
              {exporting ?? "Export bundle"}
            </button>
          )}
          <a class="btn btn-ghost" href={formatRoute({ page: "run", runId: run.runId, tab: "compare" })}>
            Compare
          </a>
          <RestartButton run={run} />
          {can(who.role, "rerun") ? (
            <button type="button" class="btn btn-secondary" onClick={() => setConfirm("rerun")}>
              Rerun
            </button>
          ) : null}
        </div>
      </div>
      <ActionError error={failure} />
      {run.error ? (
        <div class="alert alert-error" role="status">
          <strong>Failed{run.error.nodeId ? ` at ${run.error.nodeId}` : ""}:</strong> {run.error.message}{" "}
          <span class="muted">({run.error.code})</span>
        </div>
      ) : null}
      {run.noActionReason ? (
        <div class="alert alert-info" role="status">
          <strong>No action:</strong> {run.noActionReason}
        </div>
      ) : null}
      <dl class="facts">
        <Fact label="Definition hash">
          <Hash value={run.workflow.definitionHash} chars={16} />
        </Fact>
        <Fact label="Trigger">
          {run.trigger.type}
          {describeTrigger(run.trigger) ? <span class="mono"> {describeTrigger(run.trigger)}</span> : null}
          {run.trigger.userId ? <span class="muted"> by {run.trigger.userId}</span> : null}
        </Fact>
        <Fact label="Created by">{run.createdBy || "—"}</Fact>
        <Fact label="Duration">
          {formatDuration(duration)}
          {live && run.startedAt ? <span class="muted"> so far</span> : null}
        </Fact>
        <Fact label="Created">
          <span class="mono small">{formatTimestamp(run.createdAt)}</span>
        </Fact>
        <Fact label="Started">
          <span class="mono small">{formatTimestamp(run.startedAt)}</span>
        </Fact>
        <Fact label="Completed">
          <span class="mono small">{formatTimestamp(run.completedAt)}</span>
        </Fact>
        <Fact label="Engine">{run.engineVersion}</Fact>
        {run.jobRunId ? (
          <Fact label="Job run">
            <a class="mono" href={formatRoute({ page: "job-run", jobRunId: run.jobRunId })}>
              {run.jobRunId}
            </a>
          </Fact>
        ) : null}
        {run.rerunOf ? (
          <Fact label="Rerun of">
            <a class="mono" href={formatRoute({ page: "run", runId: run.rerunOf, tab: "overview" })}>
              {run.rerunOf}
            </a>
          </Fact>
        ) : null}
        <RunOperationFacts run={run} />
      </dl>
      <ConfirmDialog
        open={confirm === "cancel"}
        title="Cancel this run?"
        confirmLabel="Cancel run"
        danger
        busy={busy}
        onConfirm={act}
        onCancel={() => setConfirm(null)}
      >
        <p>
          Running tasks are stopped and nodes not yet started are skipped. A cancelled run cannot be resumed; you can
          rerun it.
        </p>
        <Field id="cancel-reason" label="Reason">
          <input
            id="cancel-reason"
            type="text"
            value={reason}
            onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
          />
        </Field>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "rerun"}
        title="Rerun this run?"
        confirmLabel="Start rerun"
        busy={busy}
        onConfirm={act}
        onCancel={() => setConfirm(null)}
      >
        <p>
          A new run starts with the same definition (<Hash value={run.workflow.definitionHash} />) and the same
          parameters. This run is left as it is.
        </p>
      </ConfirmDialog>
    </header>
  );
}
