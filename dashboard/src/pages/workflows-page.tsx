// The list of the org's workflows.
import { Empty, ErrorBox, Hash, Loading, Pager, Time, usePager } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { useNow, usePageTitle, usePolled } from "../hooks.ts";
import { formatRoute } from "../router.ts";

export function WorkflowsPage() {
  const { api } = useSession();
  usePageTitle("Workflows");
  const pager = usePager("workflows");
  const list = usePolled(() => api.listWorkflows({ cursor: pager.cursor, limit: 50 }), [pager.cursor]);
  const now = useNow(false);
  return (
    <>
      <div class="page-head">
        <h1>Workflows</h1>
      </div>
      {list.data === undefined && list.loading ? (
        <Loading what="workflows" />
      ) : list.data === undefined ? (
        <ErrorBox error={list.error} what="workflows" onRetry={list.reload} />
      ) : list.data.items.length === 0 ? (
        <Empty title="No workflows yet.">
          Define one with the <code>stepwise</code> CLI or{" "}
          <code>
            PUT /api/workflows/ Define one with <code>stepwise workflow apply file.yaml</code> or{" "}
            <code>PUT /api/workflows/&lt;name&gt;</code>.lt;name Define one with{" "}
            <code>stepwise workflow apply file.yaml</code> or <code>PUT /api/workflows/&lt;name&gt;</code>.gt;
          </code>
          .
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="table table-cards">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Version</th>
                <th scope="col">Definition hash</th>
                <th scope="col">Description</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((w) => (
                <tr key={w.name} data-workflow={w.name}>
                  <td data-label="Name">
                    <a href={formatRoute({ page: "workflow", name: w.name, tab: "overview" })} class="strong">
                      {w.name}
                    </a>
                  </td>
                  <td data-label="Version">{w.version !== undefined ? `v${w.version}` : "—"}</td>
                  <td data-label="Hash">
                    <Hash value={w.definitionHash} />
                  </td>
                  <td data-label="Description" class="muted">
                    {w.description ?? ""}
                  </td>
                  <td data-label="Updated">
                    <Time iso={w.updatedAt ?? w.createdAt} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data ? (
        <Pager
          page={pager.page}
          hasNext={Boolean(list.data.nextCursor)}
          onNext={() => list.data?.nextCursor && pager.next(list.data.nextCursor)}
          onPrev={pager.prev}
        />
      ) : null}
    </>
  );
}
