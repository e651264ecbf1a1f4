// Job runs of the org, with the jobs that can be started from here.
import { useState } from "preact/hooks";
import { PagedTable } from "../components/data-table.tsx";
import { JobStartForm } from "../components/job-start-form.tsx";
import { Card, Empty, NotLoaded, StatusBadge, StatusFilter, Time, usePager } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { durationBetween, formatDuration, humanize } from "../format.ts";
import { useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import { formatRoute, type Route } from "../router.ts";
import { isTerminalJobRun, JOB_RUN_STATUSES } from "../types.ts";
import type { JobWithParameters } from "../types-extra.ts";

export function JobRunsPage({ route }: { route: Extract<Route, { page: "job-runs" }> }) {
  const { api, who } = useSession();
  usePageTitle("Jobs");
  const pager = usePager(`job-runs|${route.status ?? ""}|${route.job ?? ""}`);
  const list = usePolled(
    () => api.listJobRuns({ cursor: pager.cursor, status: route.status, job: route.job, limit: 20 }),
    [pager.cursor, route.status, route.job],
    { intervalMs: 2000, keepPolling: (p) => p.items.some((j) => !isTerminalJobRun(j.status)) },
  );
  const active = list.data?.items.some((j) => !isTerminalJobRun(j.status)) ?? false;
  const now = useNow(active);
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Jobs</h1>
          <p class="lead">A job runs workflows one after another; a failed workflow run halts it.</p>
        </div>
      </div>
      <Jobs mayStart={can(who.role, "start-job")} />
      <Card titleId="job-runs-title" title="Job runs">
        <div class="toolbar">
          <StatusFilter
            id="job-status"
            statuses={JOB_RUN_STATUSES}
            value={route.status}
            onChange={(status) => {
              window.location.hash = formatRoute({ ...route, status });
            }}
          />
        </div>
        <PagedTable
          list={list}
          pager={pager}
          what="job runs"
          empty={<Empty title={route.status ? `No ${humanize(route.status)} job runs.` : "No job runs yet."} />}
          columns={["Job run", "Job", "Status", "Who", "Started", { name: "Duration", num: true }]}
          row={(j) => (
            <tr key={j.jobRunId} data-job-run={j.jobRunId}>
              <td data-label="Job run">
                <a class="mono" href={formatRoute({ page: "job-run", jobRunId: j.jobRunId })}>
                  {j.jobRunId}
                </a>
              </td>
              <td data-label="Job">{j.job}</td>
              <td data-label="Status">
                <StatusBadge status={j.status} />
              </td>
              <td data-label="Who">{j.createdBy ?? "—"}</td>
              <td data-label="Started">
                <Time iso={j.createdAt} now={now} />
              </td>
              <td data-label="Duration" class="num">
                {formatDuration(
                  durationBetween(j.createdAt, j.completedAt, isTerminalJobRun(j.status) ? undefined : now * 1000),
                )}
              </td>
            </tr>
          )}
        />
      </Card>
    </>
  );
}

function Jobs({ mayStart }: { mayStart: boolean }) {
  const { api } = useSession();
  const jobs = usePolled(() => api.listJobs({ limit: 100 }), []);
  const [starting, setStarting] = useState<string | null>(null);
  if (jobs.data === undefined) return <NotLoaded loaded={jobs} what="jobs" />;
  if (jobs.data.items.length === 0) return null;
  return (
    <Card titleId="jobs-title" title="Defined jobs">
      <ul class="job-list">
        {(jobs.data.items as JobWithParameters[]).map((j) => (
          <li key={j.name} class="job-item" data-job={j.name}>
            <div class="job-item-head">
              <div>
                <strong>{j.name}</strong>
                {j.description ? <span class="muted"> — {j.description}</span> : null}
                {j.workflowExecutionOrder ? (
                  <div class="chain muted small">{j.workflowExecutionOrder.join(" → ")}</div>
                ) : null}
              </div>
              {mayStart ? (
                <button
                  type="button"
                  class="btn btn-secondary btn-sm"
                  aria-expanded={starting === j.name}
                  onClick={() => setStarting(starting === j.name ? null : j.name)}
                >
                  {starting === j.name ? "Close" : "Start…"}
                </button>
              ) : null}
            </div>
            {starting === j.name ? (
              <JobStartForm
                job={j}
                onStarted={(jobRunId) => {
                  window.location.hash = formatRoute({ page: "job-run", jobRunId });
                }}
              />
            ) : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}
