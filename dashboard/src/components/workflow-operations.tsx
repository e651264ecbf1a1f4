// Operating a workflow from its page: the queue of runs waiting for a concurrency slot, and the Archive action.
// Mounted by the workflow page with one line each.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { formatTimestamp } from "../format.ts";
import { usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import { formatRoute } from "../router.ts";
import { ActionError, Card } from "./ui.tsx";

/** Queued runs of the workflow, oldest first (the order they start in), with why they wait. */
export function WorkflowQueue({ name, limit }: { name: string; limit?: number }) {
  const { api } = useSession();
  const queued = usePolled(() => api.listRuns({ workflow: name, status: "queued", limit: 100 }), [name]);
  const items = [...(queued.data?.items ?? [])].reverse();
  if (!limit && items.length === 0) return null;
  return (
    <Card titleId="queue-title" title={<>Queue{limit ? ` (concurrency limit ${limit})` : ""}</>}>
      {items.length === 0 ? (
        <p class="muted">No run is waiting.</p>
      ) : (
        <ol class="queue" data-testid="workflow-queue">
          {items.map((r) => (
            <li key={r.runId}>
              <a class="mono" href={formatRoute({ page: "run", runId: r.runId, tab: "overview" })}>
                {r.runId}
              </a>{" "}
              <span class="muted">
                {r.queuedReason ? r.queuedReason.replace(/_/g, " ") : "starting"} · triggered{" "}
                {formatTimestamp(r.createdAt)}
              </span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

/** Archive: the workflow leaves the lists and cannot be triggered by name; its runs stay readable. */
export function ArchiveWorkflowButton({ name }: { name: string }) {
  const { api, who } = useSession();
  const [asking, setAsking] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  if (!can(who.role, "define")) return null;
  const archive = async () => {
    setFailure(null);
    try {
      await api.archiveWorkflow(name);
      window.location.hash = "#/workflows";
    } catch (err) {
      setFailure(err);
      setAsking(false);
    }
  };
  return (
    <>
      {asking ? (
        <span class="confirm-inline">
          Archive {name}? Schedules and webhooks stop; runs stay readable.{" "}
          <button type="button" class="btn btn-danger-outline" onClick={archive}>
            Archive
          </button>{" "}
          <button type="button" class="btn btn-secondary" onClick={() => setAsking(false)}>
            Keep
          </button>
        </span>
      ) : (
        <button type="button" class="btn btn-secondary" onClick={() => setAsking(true)}>
          Archive
        </button>
      )}
      <ActionError error={failure} />
    </>
  );
}
