// A run: header facts, waiting human steps, the DAG coloured by task status, the timeline, the selected
// node's evidence, and tabs for logs, context, files, audit (with verify) and lineage. While the run is
// not terminal everything refreshes every second.
import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import { DagView } from "../components/dag-view.tsx";
import { CardTable, CompactTable } from "../components/data-table.tsx";
import { Field } from "../components/field.tsx";
import { ApprovalPanel, InputPanel } from "../components/human-step.tsx";
import { LineageView } from "../components/lineage-view.tsx";
import { LogView } from "../components/log-view.tsx";
import { RestartButton, RunOperationFacts } from "../components/run-operations.tsx";
import { TimelineView } from "../components/timeline-view.tsx";
import {
  ActionError,
  Card,
  ConfirmDialog,
  Empty,
  Fact,
  Hash,
  Loading,
  NotLoaded,
  StatusBadge,
  Tabs,
} from "../components/ui.tsx";
import { useSession } from "../context.ts";
import {
  describeTrigger,
  durationBetween,
  formatBytes,
  formatDuration,
  formatTimestamp,
  formatValue,
  humanize,
} from "../format.ts";
import { useMediaQuery, useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
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
      </div>
    </>
  );
}

function RunHeader({ run, now, reload }: { run: Run; now: number; reload: () => void }) {
  const { api, who } = useSession();
  const [confirm, setConfirm] = useState<"cancel" | "rerun" | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [reason, setReason] = useState("");
  const live = !isTerminalRun(run.status);
  const duration = durationBetween(run.startedAt, run.completedAt, live ? now * 1000 : undefined);

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

function TaskDetail({
  run,
  task,
  node,
  now,
  reload,
}: {
  run: Run;
  task: TaskRecord;
  node: WorkflowNode | undefined;
  now: number;
  reload: () => void;
}) {
  const live = !isTerminalRun(run.status) && !["succeeded", "failed", "skipped", "cancelled"].includes(task.status);
  const attempts = task.attempts ?? [];
  const human = task.type === "approval" || task.type === "input";
  return (
    <section class="card" aria-labelledby="task-title" data-task={task.nodeId}>
      <div class="card-head">
        <h2 id="task-title">
          Node <code>{task.nodeId}</code> <span class="type-tag">{task.type}</span>
        </h2>
        <StatusBadge status={task.status} />
      </div>
      {human && !["awaiting_approval", "awaiting_input"].includes(task.status) ? (
        task.type === "approval" ? (
          <ApprovalPanel
            runId={run.runId}
            startedBy={run.trigger.userId ?? run.createdBy}
            node={node}
            task={task}
            onDone={reload}
          />
        ) : (
          <InputPanel runId={run.runId} node={node} task={task} onDone={reload} />
        )
      ) : null}
      <dl class="facts">
        <Fact label="Attempt">{task.attempt ?? 1}</Fact>
        <Fact label="Duration">
          {formatDuration(
            task.durationMs !== null && task.durationMs !== undefined
              ? task.durationMs * 1000
              : durationBetween(task.startedAt ?? task.waitingSince, task.endedAt, live ? now * 1000 : undefined),
          )}
        </Fact>
        <Fact label="Started">
          <span class="mono small">{formatTimestamp(task.startedAt ?? task.waitingSince)}</span>
        </Fact>
        <Fact label="Ended">
          <span class="mono small">{formatTimestamp(task.endedAt)}</span>
        </Fact>
        {task.exitCode !== null && task.exitCode !== undefined ? <Fact label="Exit code">{task.exitCode}</Fact> : null}
        {task.codeHash ? (
          <Fact label="Code hash">
            <Hash value={task.codeHash} />
          </Fact>
        ) : null}
        {task.image ? (
          <Fact label="Image">
            {task.image} {task.imageHash ? <Hash value={task.imageHash} /> : null}
          </Fact>
        ) : null}
        {task.host ? <Fact label="Host">{task.host}</Fact> : null}
      </dl>
      {task.error ? (
        <div class="alert alert-error">
          <strong>{task.error.code}:</strong> {task.error.message}
        </div>
      ) : null}
      {task.command ? (
        <>
          <h3 class="h-small">Command</h3>
          <pre class="code">{task.command}</pre>
        </>
      ) : null}
      {(task.inputs?.length ?? 0) + (task.outputs?.length ?? 0) > 0 ? (
        <div class="grid-2">
          <FileRefs title="Inputs" files={task.inputs ?? []} />
          <FileRefs title="Outputs" files={task.outputs ?? []} />
        </div>
      ) : null}
      {task.outputVariables && Object.keys(task.outputVariables).length > 0 ? (
        <>
          <h3 class="h-small">Wrote to context</h3>
          <KeyValueTable
            entries={Object.entries(task.outputVariables)}
            cells={(v) => (
              <>
                <td>
                  <span class="type-tag">{v.type}</span>
                </td>
                <td class="mono">{formatValue(v.value)}</td>
              </>
            )}
          />
        </>
      ) : null}
      {attempts.length > 1 ? (
        <>
          <h3 class="h-small">Attempts</h3>
          <CompactTable columns={["#", "Status", "Started", { name: "Duration", num: true }, "Error"]}>
            {attempts.map((a) => (
              <tr key={a.attempt}>
                <td>{a.attempt}</td>
                <td>
                  <StatusBadge status={a.status} />
                </td>
                <td class="mono small">{formatTimestamp(a.startedAt)}</td>
                <td class="num">{formatDuration(a.durationMs !== null ? a.durationMs * 1000 : null)}</td>
                <td>{a.error?.message ?? ""}</td>
              </tr>
            ))}
          </CompactTable>
        </>
      ) : null}
      <p>
        <a href={formatRoute({ page: "run", runId: run.runId, tab: "logs", node: task.nodeId })}>
          Logs of {task.nodeId} →
        </a>
      </p>
    </section>
  );
}

function FileRefs({ title, files }: { title: string; files: { path: string; sha256: string; size: number }[] }) {
  return (
    <div>
      <h3 class="h-small">{title}</h3>
      {files.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="plain">
          {files.map((f) => (
            <li key={f.path}>
              <span class="mono">{f.path}</span> <span class="muted">{formatBytes(f.size)}</span>{" "}
              <Hash value={f.sha256} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A table of named values, one row each: the name as the row's header, then the cells `cells` makes of the value. */
function KeyValueTable<T>({ entries, cells }: { entries: [string, T][]; cells: (value: T) => ComponentChildren }) {
  return (
    <table class="table compact kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row" class="mono">
              {k}
            </th>
            {cells(v)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Parameters({ run }: { run: Run }) {
  const entries = Object.entries(run.parameters ?? {});
  return (
    <Card titleId="run-params-title" title="Parameters">
      {entries.length === 0 ? (
        <p class="muted">This run has no parameters.</p>
      ) : (
        <KeyValueTable entries={entries} cells={(v) => <td class="mono">{formatValue(v)}</td>} />
      )}
    </Card>
  );
}

function ContextTable({ run }: { run: Run }) {
  const entries = Object.entries(run.context ?? {});
  return (
    <Card titleId="context-title" title="Context">
      {entries.length === 0 ? (
        <Empty title="The context is empty.">
          Nodes write to it by returning values (scripts) or through $STEPWISE_OUTPUT (commands).
        </Empty>
      ) : (
        <CardTable columns={["Key", "Type", "Value", "Written by"]} testId="context">
          {entries.map(([k, e]) => (
            <tr key={k} data-key={k}>
              <th scope="row" class="mono" data-label="Key">
                {k}
              </th>
              <td data-label="Type">
                <span class="type-tag">{e.type}</span>
              </td>
              <td data-label="Value">
                {e.type === "json" ? (
                  <pre class="code small">{formatValue(e.value, true)}</pre>
                ) : (
                  <span class="mono">{formatValue(e.value)}</span>
                )}
              </td>
              <td data-label="Written by">
                {e.writtenBy ? (
                  <a
                    href={formatRoute({ page: "run", runId: run.runId, tab: "overview", node: e.writtenBy })}
                    class="mono"
                  >
                    {e.writtenBy}
                  </a>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </CardTable>
      )}
    </Card>
  );
}

function FilesTab({ runId, live }: { runId: string; live: boolean }) {
  const { api } = useSession();
  const files = usePolled(() => api.listFiles(runId), [runId], { intervalMs: 2000, keepPolling: () => live });
  const [failure, setFailure] = useState<unknown>(null);
  const [busyPath, setBusyPath] = useState<string | null>(null);

  // Downloads need the bearer key, which a plain link cannot send: fetch, then hand the bytes to the browser.
  const download = async (path: string) => {
    setBusyPath(path);
    setFailure(null);
    try {
      const blob = await api.downloadFile(runId, path);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = path.split("/").pop() || "file";
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setFailure(err);
    } finally {
      setBusyPath(null);
    }
  };

  return (
    <Card titleId="files-title" title="Files">
      <ActionError error={failure} />
      {files.data === undefined ? (
        <NotLoaded loaded={files} what="files" />
      ) : files.data.items.length === 0 ? (
        <Empty title="No files.">What a node writes under out/ becomes a run file.</Empty>
      ) : (
        <CardTable
          columns={["Path", { name: "Size", num: true }, "SHA-256", "Produced by", { name: "Download", hidden: true }]}
          testId="files"
        >
          {files.data.items.map((f) => (
            <tr key={f.path} data-file={f.path}>
              <td class="mono" data-label="Path">
                {f.path}
              </td>
              <td class="num" data-label="Size">
                {formatBytes(f.size)}
              </td>
              <td data-label="SHA-256">
                <Hash value={f.sha256} />
              </td>
              <td class="mono" data-label="Produced by">
                {f.producedBy ?? "—"}
              </td>
              <td data-label="">
                <button
                  type="button"
                  class="btn btn-secondary btn-sm"
                  onClick={() => void download(f.path)}
                  disabled={busyPath === f.path}
                  aria-label={`Download ${f.path}`}
                >
                  {busyPath === f.path ? "Downloading…" : "Download"}
                </button>
              </td>
            </tr>
          ))}
        </CardTable>
      )}
    </Card>
  );
}

function AuditTab({ runId, live }: { runId: string; live: boolean }) {
  const { api } = useSession();
  const audit = usePolled(() => api.getAudit(runId), [runId], { intervalMs: 2000, keepPolling: () => live });
  const verify = usePolled(() => api.verify(runId), [runId, live]);
  return (
    <>
      <Card
        titleId="verify-title"
        title="Verification"
        aside={
          <button type="button" class="btn btn-secondary btn-sm" onClick={verify.reload}>
            Verify again
          </button>
        }
      >
        {verify.data === undefined ? (
          <NotLoaded loaded={verify} what="the verification" />
        ) : (
          <div
            class={`verify ${verify.data.valid ? "verify-ok" : "verify-bad"}`}
            data-testid="verify"
            data-valid={String(verify.data.valid)}
            role="status"
          >
            <span class="verify-mark" aria-hidden="true">
              {verify.data.valid ? "✓" : "✕"}
            </span>
            <div>
              <strong>
                {verify.data.valid
                  ? "The audit chain and evidence match what is stored."
                  : "Verification found problems."}
              </strong>
              <div class="muted small">
                Root <Hash value={verify.data.root} chars={24} />
                {live ? " · the root is sealed when the run ends" : ""}
              </div>
              {verify.data.problems.length > 0 ? (
                <ul class="problems">
                  {verify.data.problems.map((p) => (
                    <li key={JSON.stringify(p)}>{typeof p === "string" ? p : JSON.stringify(p)}</li>
                  ))}
                </ul>
              ) : null}
            </div>
          </div>
        )}
      </Card>
      <Card titleId="audit-title" title="Audit trail">
        {audit.data === undefined ? (
          <NotLoaded loaded={audit} what="the audit trail" />
        ) : audit.data.items.length === 0 ? (
          <Empty title="No events yet." />
        ) : (
          <CardTable
            columns={[{ name: "#", num: true }, "At", "Event", "Change", "Actor", "Detail", "Hash"]}
            class="audit"
            testId="audit"
          >
            {audit.data.items.map((e) => (
              <tr key={e.seq}>
                <td class="num" data-label="#">
                  {e.seq}
                </td>
                <td class="mono small at" data-label="At">
                  {formatTimestamp(e.at)}
                </td>
                <td data-label="Event">
                  <code>{e.type}</code>
                  {typeof e.detail?.nodeId === "string" ? (
                    <>
                      {" "}
                      <a
                        href={formatRoute({ page: "run", runId, tab: "overview", node: e.detail.nodeId })}
                        class="mono small"
                      >
                        {e.detail.nodeId}
                      </a>
                    </>
                  ) : null}
                </td>
                <td data-label="Change">
                  {e.from || e.to ? (
                    <span>
                      {e.from ? humanize(e.from) : "—"} → {e.to ? humanize(e.to) : "—"}
                    </span>
                  ) : (
                    ""
                  )}
                </td>
                <td data-label="Actor">{e.actor}</td>
                <td data-label="Detail" class="mono small detail">
                  {detailText(e.detail)}
                </td>
                <td data-label="Hash">
                  <Hash value={e.hash} chars={8} />
                </td>
              </tr>
            ))}
          </CardTable>
        )}
      </Card>
    </>
  );
}

/** An audit event's detail without the node id, which the Event column already shows as a link. */
function detailText(detail: Record<string, unknown> | undefined): string {
  if (!detail) return "";
  const { nodeId: _shown, ...rest } = detail;
  return Object.keys(rest).length > 0 ? JSON.stringify(rest) : "";
}

function LineageTab({ runId, live }: { runId: string; live: boolean }) {
  const { api } = useSession();
  const lineage = usePolled(() => api.getLineage(runId), [runId], { intervalMs: 2000, keepPolling: () => live });
  return (
    <Card titleId="lineage-title" title="Lineage">
      <p class="muted">Which parameters and files each task read, and which files it produced.</p>
      {lineage.data === undefined ? (
        <NotLoaded loaded={lineage} what="the lineage" />
      ) : lineage.data.nodes.length === 0 ? (
        <Empty title="No lineage recorded yet." />
      ) : (
        <LineageView lineage={lineage.data} />
      )}
    </Card>
  );
}
