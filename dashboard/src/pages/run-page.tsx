// A run: header facts, waiting human steps, the DAG coloured by task status, the timeline, the selected
// node's evidence, and tabs for logs, context, files, audit (with verify) and lineage. While the run is
// not terminal everything refreshes every second.
import { useMemo } from "preact/hooks";
import { DagView } from "../components/dag-view.tsx";
import { ApprovalPanel, InputPanel } from "../components/human-step.tsx";
import { LogView } from "../components/log-view.tsx";
import { AuditTab, LineageTab } from "../components/run-audit-tab.tsx";
import { RunCompare } from "../components/run-compare.tsx";
import { ContextTable, FilesTab, Parameters } from "../components/run-data-tabs.tsx";
import { RunHeader } from "../components/run-header.tsx";
import { TaskDetail } from "../components/task-detail.tsx";
import { TimelineView } from "../components/timeline-view.tsx";
import { Card, Loading, NotLoaded, Tabs } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { useMediaQuery, useNow, usePageTitle, usePolled } from "../hooks.ts";
import { formatRoute, type Route, type RunTab } from "../router.ts";
import { computeTimeline } from "../timeline.ts";
import type { Run, TaskRecord, WorkflowDefinition, WorkflowNode } from "../types.ts";
import { isTerminalRun } from "../types.ts";

type RunRoute = Extract<Route, { page: "run" }>;

interface RunData {
  run: Run;
  tasks: TaskRecord[];
}

export function RunPage({ route }: { route: RunRoute }) {
  const { api } = useSession();
  usePageTitle(route.runId);
  // The run first, then its tasks: tasks read after the run are never older than it, so the last poll
  // (the one that sees the run terminal) also sees every task's final state.
  const data = usePolled<RunData>(
    async () => {
      const run = await api.getRun(route.runId);
      const tasks = await api.getTasks(route.runId).catch(() => [] as TaskRecord[]);
      return { run, tasks };
    },
    [route.runId],
    { intervalMs: 1000, keepPolling: (d) => !isTerminalRun(d.run.status) },
  );
  const run = data.data?.run;
  const definition = usePolled(
    () => (run ? api.getDefinitionFor(run.workflow.name, run.workflow.definitionHash) : Promise.resolve(null)),
    [run?.workflow.name, run?.workflow.definitionHash],
  );

  if (!data.data) return <NotLoaded loaded={data} what="the run" errorWhat="run" />;
  return (
    <RunView
      route={route}
      run={data.data.run}
      tasks={data.data.tasks}
      definition={definition.data ?? null}
      definitionLoading={definition.loading}
      stale={data.error}
      reload={data.reload}
    />
  );
}

function RunView({
  route,
  run,
  tasks,
  definition,
  definitionLoading,
  stale,
  reload,
}: {
  route: RunRoute;
  run: Run;
  tasks: TaskRecord[];
  definition: WorkflowDefinition | null;
  definitionLoading: boolean;
  stale: Error | undefined;
  reload: () => void;
}) {
  const live = !isTerminalRun(run.status);
  const now = useNow(live);
  // Fewer ticks on a phone, where six labels would overlap.
  const narrow = useMediaQuery("(max-width: 720px)");
  const nodes: WorkflowNode[] = useMemo(
    () => definition?.nodes ?? tasks.map((t) => ({ id: t.nodeId, type: t.type })),
    [definition, tasks],
  );
  const nodeById = useMemo(() => new Map(nodes.map((n) => [n.id, n])), [nodes]);
  const statuses = useMemo(() => Object.fromEntries(tasks.map((t) => [t.nodeId, t.status])), [tasks]);
  const timeline = useMemo(
    () =>
      computeTimeline(
        tasks,
        run,
        now * 1000,
        nodes.map((n) => n.id),
        narrow ? 3 : 6,
      ),
    [tasks, run, now, nodes, narrow],
  );
  const waiting = tasks.filter((t) => t.status === "awaiting_approval" || t.status === "awaiting_input");
  const tabHref = (tab: RunTab, node?: string) => formatRoute({ page: "run", runId: run.runId, tab, node });
  const select = (node: string) => {
    window.location.hash = tabHref(route.tab === "logs" ? "logs" : "overview", node === route.node ? undefined : node);
  };
  const selectedTask = route.node ? tasks.find((t) => t.nodeId === route.node) : undefined;
  const contextCount = Object.keys(run.context ?? {}).length;

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/workflows">Workflows</a>
        <span aria-hidden="true">/</span>
        <a href={formatRoute({ page: "workflow", name: run.workflow.name, tab: "runs" })}>{run.workflow.name}</a>
        <span aria-hidden="true">/</span>
        <span aria-current="page" class="mono">
          {run.runId}
        </span>
      </nav>
      <RunHeader run={run} now={now} reload={reload} />
      {stale ? (
        <p class="alert alert-warn" role="status">
          Lost contact with the server ({stale.message}); showing what was last loaded and retrying.
        </p>
      ) : null}
      {waiting.length > 0 ? (
        <section class="human-steps" aria-label="Waiting for a person">
          {waiting.map((t) =>
            t.type === "approval" || t.status === "awaiting_approval" ? (
              <ApprovalPanel
                key={t.nodeId}
                runId={run.runId}
                startedBy={run.trigger.userId ?? run.createdBy}
                node={nodeById.get(t.nodeId)}
                task={t}
                onDone={reload}
              />
            ) : (
              <InputPanel key={t.nodeId} runId={run.runId} node={nodeById.get(t.nodeId)} task={t} onDone={reload} />
            ),
          )}
        </section>
      ) : null}
      <Tabs
        label="Run sections"
        current={route.tab}
        items={[
          { id: "overview", label: "Overview", href: tabHref("overview", route.node) },
          { id: "logs", label: "Logs", href: tabHref("logs", route.node) },
          { id: "context", label: "Context", href: tabHref("context"), count: contextCount },
          { id: "files", label: "Files", href: tabHref("files") },
          { id: "audit", label: "Audit", href: tabHref("audit") },
          { id: "lineage", label: "Lineage", href: tabHref("lineage") },
          { id: "compare", label: "Compare", href: tabHref("compare") },
        ]}
      />
      <div class="tab-panel">
        {route.tab === "overview" ? (
          <>
            <Card
              titleId="graph-title"
              title="Graph"
              aside={<span class="muted">Select a node for its evidence and logs.</span>}
            >
              {definitionLoading && !definition && tasks.length === 0 ? (
                <Loading what="the graph" />
              ) : (
                <DagView
                  nodes={nodes}
                  statuses={statuses}
                  selected={route.node}
                  onSelect={select}
                  label={`Graph of run ${run.runId}`}
                />
              )}
              {!definition && !definitionLoading ? (
                <p class="muted small">
                  The definition of this version could not be loaded; dependencies between nodes are not shown.
                </p>
              ) : null}
            </Card>
            {/* A head row with nothing beside the title, like the graph's above it. */}
            <Card titleId="timeline-title" title="Timeline" aside={null} testId="timeline">
              <TimelineView timeline={timeline} selected={route.node} onSelect={select} />
            </Card>
            {selectedTask ? (
              <TaskDetail
                run={run}
                task={selectedTask}
                node={nodeById.get(selectedTask.nodeId)}
                now={now}
                reload={reload}
              />
            ) : route.node ? (
              <section class="card">
                <h2>
                  Node <code>{route.node}</code>
                </h2>
                <p class="muted">This node has not started.</p>
              </section>
            ) : null}
            <Parameters run={run} />
          </>
        ) : null}
        {route.tab === "logs" ? (
          <section class="card">
            <LogView
              runId={run.runId}
              node={route.node}
              nodes={nodes.map((n) => n.id)}
              live={live}
              onNodeChange={(node) => {
                window.location.hash = tabHref("logs", node);
              }}
            />
          </section>
        ) : null}
        {route.tab === "context" ? <ContextTable run={run} /> : null}
        {route.tab === "files" ? <FilesTab runId={run.runId} live={live} /> : null}
        {route.tab === "audit" ? <AuditTab runId={run.runId} live={live} /> : null}
        {route.tab === "lineage" ? <LineageTab runId={run.runId} live={live} /> : null}
        {route.tab === "compare" ? <RunCompare run={run} other={route.with} /> : null}
      </div>
    </>
  );
}
