// A filterable, paginated list of runs, used for the Runs page and a workflow's Runs tab. It refreshes
// itself while any run shown is still going.
import type { ComponentChildren } from "preact";
import { durationBetween, formatDuration, humanize } from "../format.ts";
import { useNow, usePolled } from "../hooks.ts";
import { formatRoute } from "../router.ts";
import type { Page, RunSummary } from "../types.ts";
import { isTerminalRun, RUN_STATUSES } from "../types.ts";
import { PagedTable } from "./data-table.tsx";
import { Empty, StatusBadge, StatusFilter, Time, usePager } from "./ui.tsx";

export function RunsList({
  load,
  scope,
  status,
  onStatusChange,
  showWorkflow,
  emptyHint,
}: {
  load: (cursor: string | null, status: string | undefined) => Promise<Page<RunSummary>>;
  /** Identifies what is listed; the pager starts over when it or the filter changes. */
  scope: string;
  status?: string | undefined;
  onStatusChange: (status: string | undefined) => void;
  showWorkflow?: boolean;
  emptyHint?: ComponentChildren;
}) {
  const pager = usePager(`${scope}|${status ?? ""}`);
  const runs = usePolled(() => load(pager.cursor, status), [scope, status, pager.cursor], {
    intervalMs: 2000,
    keepPolling: (page) => page.items.some((r) => !isTerminalRun(r.status)),
  });
  const anyActive = runs.data?.items.some((r) => !isTerminalRun(r.status)) ?? false;
  const now = useNow(anyActive);
  const filterId = `status-filter-${scope}`;

  return (
    <div class="list">
      <div class="toolbar">
        <StatusFilter id={filterId} statuses={RUN_STATUSES} value={status} onChange={onStatusChange} />
        {anyActive ? (
          <span class="live" role="status">
            <span class="live-dot" aria-hidden="true" /> Updating
          </span>
        ) : null}
      </div>
      <PagedTable
        list={runs}
        pager={pager}
        what="runs"
        empty={
          <Empty title={status ? `No ${humanize(status)} runs.` : "No runs yet."}>{status ? null : emptyHint}</Empty>
        }
        columns={[
          "Run",
          ...(showWorkflow ? ["Workflow"] : []),
          "Status",
          "Trigger",
          "Who",
          "Started",
          { name: "Duration", num: true },
        ]}
        row={(r) => {
          const started = r.startedAt ?? r.createdAt;
          const active = !isTerminalRun(r.status);
          return (
            <tr key={r.runId} data-run={r.runId} data-status={r.status}>
              <td data-label="Run" class="nowrap">
                <a href={formatRoute({ page: "run", runId: r.runId, tab: "overview" })} class="mono">
                  {r.runId}
                </a>
              </td>
              {showWorkflow ? (
                <td data-label="Workflow">
                  <a href={formatRoute({ page: "workflow", name: r.workflow.name, tab: "overview" })}>
                    {r.workflow.name}
                  </a>{" "}
                  <span class="muted">v{r.workflow.version}</span>
                </td>
              ) : null}
              <td data-label="Status" class="nowrap">
                <StatusBadge status={r.status} />
              </td>
              <td data-label="Trigger" class="nowrap">
                {r.trigger?.type ?? "—"}
              </td>
              <td data-label="Who">{r.trigger?.userId ?? r.createdBy ?? "—"}</td>
              <td data-label="Started" class="nowrap">
                <Time iso={started} now={now} />
              </td>
              <td data-label="Duration" class="num nowrap">
                {r.startedAt
                  ? formatDuration(durationBetween(r.startedAt, r.completedAt, active ? now * 1000 : undefined))
                  : "—"}
                {active && r.startedAt ? <span class="muted"> so far</span> : null}
              </td>
            </tr>
          );
        }}
      />
    </div>
  );
}
