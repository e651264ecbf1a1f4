// A workflow: its DAG, parameters, versions with hashes, a trigger form and its runs.
import { DagView } from "../components/dag-view.tsx";
import { CardTable, CompactTable } from "../components/data-table.tsx";
import { RunsList } from "../components/runs-list.tsx";
import { TriggerForm } from "../components/trigger-form.tsx";
import { Card, Empty, Fact, Hash, NotLoaded, Pager, Tabs, Time, usePager } from "../components/ui.tsx";
import { WebhooksPanel } from "../components/webhooks-panel.tsx";
import { DefinitionView } from "../components/workflow-definition.tsx";
import { ArchiveWorkflowButton, WorkflowQueue } from "../components/workflow-operations.tsx";
import { useSession } from "../context.ts";
import { formatTimestamp, formatValue } from "../format.ts";
import { useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import { formatRoute, type Route, type WorkflowTab } from "../router.ts";
import type { WorkflowDetail } from "../types.ts";

type WorkflowRoute = Extract<Route, { page: "workflow" }>;

export function WorkflowPage({ route }: { route: WorkflowRoute }) {
  const { api, who } = useSession();
  usePageTitle(route.name);
  const wf = usePolled(() => api.getWorkflow(route.name), [route.name]);
  const mayTrigger = can(who.role, "trigger");
  const href = (tab: WorkflowTab) => formatRoute({ page: "workflow", name: route.name, tab });

  if (wf.data === undefined) return <NotLoaded loaded={wf} what="the workflow" errorWhat="workflow" />;
  const w = wf.data;
  const tabs = [
    { id: "overview", label: "Overview", href: href("overview") },
    { id: "runs", label: "Runs", href: href("runs") },
    { id: "versions", label: "Versions", href: href("versions") },
    { id: "definition", label: "Definition", href: href("definition") },
    { id: "webhooks", label: "Webhooks", href: href("webhooks") },
    ...(mayTrigger ? [{ id: "trigger", label: "Trigger", href: href("trigger") }] : []),
  ];
  const tab = route.tab === "trigger" && !mayTrigger ? "overview" : route.tab;

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/workflows">Workflows</a>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{w.name}</span>
      </nav>
      <div class="page-head">
        <div>
          <h1>
            {w.name} <span class="version">v{w.version}</span>
          </h1>
          {w.definition.description ? <p class="lead">{w.definition.description}</p> : null}
        </div>
        {mayTrigger && tab !== "trigger" ? (
          <a class="btn btn-primary" href={href("trigger")}>
            Trigger run
          </a>
        ) : null}
        <ArchiveWorkflowButton name={w.name} />
      </div>
      <dl class="facts">
        <Fact label="Definition hash">
          <Hash value={w.definitionHash} chars={16} />
        </Fact>
        <Fact label="Nodes">{w.definition.nodes.length}</Fact>
        <Fact label="Created">{formatTimestamp(w.createdAt)}</Fact>
      </dl>
      <WorkflowQueue name={w.name} limit={w.definition.concurrency?.limit} />
      <Tabs items={tabs} current={tab} label="Workflow sections" />
      <div class="tab-panel">
        {tab === "overview" ? <Overview w={w} /> : null}
        {tab === "runs" ? (
          <RunsList
            scope={`wf-${w.name}`}
            status={route.status}
            load={(cursor, status) => api.listWorkflowRuns(w.name, { cursor, status, limit: 20 })}
            onStatusChange={(status) => {
              window.location.hash = formatRoute({ ...route, tab: "runs", status });
            }}
            emptyHint={mayTrigger ? <a href={href("trigger")}>Trigger the first run.</a> : null}
          />
        ) : null}
        {tab === "versions" ? <Versions name={w.name} current={w.version} /> : null}
        {tab === "definition" ? <DefinitionView definition={w.definition} hash={w.definitionHash} /> : null}
        {tab === "webhooks" ? <WebhooksPanel workflow={w.name} /> : null}
        {tab === "trigger" ? (
          <Card titleId="trigger-title" title={<>Trigger {w.name}</>} class="narrow">
            <p class="muted">
              Starts a run of version {w.version} (<Hash value={w.definitionHash} />
              ).
            </p>
            <TriggerForm
              workflow={w.name}
              parameters={w.definition.parameters}
              onTriggered={(runId) => {
                window.location.hash = formatRoute({ page: "run", runId, tab: "overview" });
              }}
            />
          </Card>
        ) : null}
      </div>
    </>
  );
}

function Overview({ w }: { w: WorkflowDetail }) {
  const params = Object.entries(w.definition.parameters ?? {});
  return (
    <>
      <Card titleId="dag-title" title="Graph">
        <DagView nodes={w.definition.nodes} label={`Graph of ${w.name}`} />
      </Card>
      <div class="grid-2">
        <Card titleId="params-title" title="Parameters">
          {params.length === 0 ? (
            <p class="muted">No parameters.</p>
          ) : (
            <CompactTable columns={["Name", "Type", "Required", "Default"]}>
              {params.map(([k, p]) => (
                <tr key={k}>
                  <td class="mono">{k}</td>
                  <td>
                    <span class="type-tag">{p.type}</span>
                  </td>
                  <td>{p.required ? "yes" : "no"}</td>
                  <td class="mono">{p.default !== undefined ? formatValue(p.default) : "—"}</td>
                </tr>
              ))}
            </CompactTable>
          )}
        </Card>
        <Card titleId="nodes-title" title="Nodes">
          <CompactTable columns={["Node", "Type", "Needs"]}>
            {w.definition.nodes.map((n) => (
              <tr key={n.id}>
                <td class="mono">{n.id}</td>
                <td>
                  <span class="type-tag">{n.type}</span>
                </td>
                <td class="mono">{n.needs?.join(", ") || "—"}</td>
              </tr>
            ))}
          </CompactTable>
        </Card>
      </div>
    </>
  );
}

function Versions({ name, current }: { name: string; current: number }) {
  const { api } = useSession();
  const pager = usePager(`versions-${name}`);
  const list = usePolled(() => api.listVersions(name, { cursor: pager.cursor, limit: 20 }), [name, pager.cursor]);
  const now = useNow(false);
  if (list.data === undefined) return <NotLoaded loaded={list} what="versions" />;
  if (list.data.items.length === 0) return <Empty title="No versions recorded." />;
  return (
    <>
      <CardTable columns={["Version", "Definition hash", "Created"]}>
        {list.data.items.map((v) => (
          <tr key={v.version}>
            <td data-label="Version">
              v{v.version} {v.version === current ? <span class="pill">latest</span> : null}
            </td>
            <td data-label="Hash">
              <Hash value={v.definitionHash} chars={24} />
            </td>
            <td data-label="Created">
              <Time iso={v.createdAt} now={now} />
              {v.createdBy ? <span class="muted"> by {v.createdBy}</span> : null}
            </td>
          </tr>
        ))}
      </CardTable>
      <Pager pager={pager} list={list.data} />
    </>
  );
}
