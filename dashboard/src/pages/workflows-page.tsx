// The list of the org's workflows.
import { PagedTable } from "../components/data-table.tsx";
import { Empty, Hash, Time, usePager } from "../components/ui.tsx";
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
      <PagedTable
        list={list}
        pager={pager}
        what="workflows"
        empty={
          <Empty title="No workflows yet.">
            Define one with <code>stepwise workflow apply file.yaml</code> or{" "}
            <code>PUT /api/workflows/&lt;name&gt;</code>.
          </Empty>
        }
        columns={["Name", "Version", "Definition hash", "Updated"]}
        row={(w) => (
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
            <td data-label="Updated">
              <Time iso={w.createdAt} now={now} />
            </td>
          </tr>
        )}
      />
    </>
  );
}
