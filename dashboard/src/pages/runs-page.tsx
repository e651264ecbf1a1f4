// All runs of the org, newest first, filterable by status.
import { RunsList } from "../components/runs-list.tsx";
import { useSession } from "../context.ts";
import { usePageTitle } from "../hooks.ts";
import { formatRoute, type Route } from "../router.ts";

export function RunsPage({ route }: { route: Extract<Route, { page: "runs" }> }) {
  const { api } = useSession();
  usePageTitle("Runs");
  return (
    <>
      <div class="page-head">
        <h1>Runs</h1>
        {route.workflow ? (
          <p class="muted">
            of <a href={formatRoute({ page: "workflow", name: route.workflow, tab: "overview" })}>{route.workflow}</a>
          </p>
        ) : null}
      </div>
      <RunsList
        scope={`runs-${route.workflow ?? ""}`}
        status={route.status}
        showWorkflow
        load={(cursor, status) => api.listRuns({ cursor, status, workflow: route.workflow, limit: 20 })}
        onStatusChange={(status) => {
          window.location.hash = formatRoute({ ...route, ...(status ? { status } : { status: undefined }) });
        }}
        emptyHint={<>Trigger a workflow from its page to start a run.</>}
      />
    </>
  );
}
