// Operating a run from its page: the Restart button of an ended, unsuccessful run, and the facts a restart, a
// queue or a cancel leave on the run. Mounted by the run page's header with one line each.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { can } from "../permissions.ts";
import { formatRoute } from "../router.ts";
import type { Run } from "../types.ts";
import { ActionError, Fact } from "./ui.tsx";

const RESTARTABLE = ["failed", "cancelled", "no_action"];

/** "Restart from failure": a new run that re-runs the failed nodes and carries every other node over. */
export function RestartButton({ run }: { run: Run }) {
  const { api, who } = useSession();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  if (!RESTARTABLE.includes(run.status) || !can(who.role, "rerun")) return null;
  const restart = async () => {
    setBusy(true);
    setFailure(null);
    try {
      const result = await api.restartRun(run.runId);
      window.location.hash = formatRoute({ page: "run", runId: result.runId, tab: "overview" });
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class="btn btn-primary"
        disabled={busy}
        title="Run the failed, cancelled or skipped nodes again; approvals and inputs already given are kept"
        onClick={restart}
      >
        Restart from failure
      </button>
      <ActionError error={failure} />
    </>
  );
}

/** The facts about where a run came from, why it waits, and who cancelled it and why. */
export function RunOperationFacts({ run }: { run: Run }) {
  return (
    <>
      {run.restartOf ? (
        <Fact label="Restart of">
          <a class="mono" href={formatRoute({ page: "run", runId: run.restartOf, tab: "overview" })}>
            {run.restartOf}
          </a>
        </Fact>
      ) : null}
      {run.status === "queued" && run.queuedReason ? (
        <Fact label="Queued">
          <span data-testid="queued-reason">{run.queuedReason.replace(/_/g, " ")}</span>
        </Fact>
      ) : null}
      {run.cancelledBy ? (
        <Fact label="Cancelled">
          <span data-testid="cancel-reason">
            by {run.cancelledBy}
            {run.cancelReason ? `: ${run.cancelReason}` : <span class="muted"> (no reason given)</span>}
          </span>
        </Fact>
      ) : null}
    </>
  );
}
