// A job run: its workflow runs in execution order, each with its progress, refreshing while it goes.
import { useState } from "preact/hooks";
import { ActionError, Card, ConfirmDialog, Fact, NotLoaded, ProgressBar, StatusBadge } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { durationBetween, formatDuration, formatTimestamp } from "../format.ts";
import { useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import { formatRoute, type Route } from "../router.ts";
import type { JobRun, TaskRecord } from "../types.ts";
import { isTerminalJobRun } from "../types.ts";

interface Step {
  workflow: string;
  runId: string | null;
  status: string;
  done: number;
  total: number;
}

/** The job's workflows in order, matched to the runs started so far (a workflow may appear twice). */
export function jobSteps(jobRun: JobRun, tasksByRun: Record<string, TaskRecord[]>): Step[] {
  const order = jobRun.jobConfigJsonSnapshot?.workflowExecutionOrder ?? jobRun.workflowRuns.map((w) => w.workflow);
  const runs = [...jobRun.workflowRuns];
  return order.map((workflow) => {
    const i = runs.findIndex((r) => r.workflow === workflow);
    const r = i >= 0 ? runs.splice(i, 1)[0] : undefined;
    const tasks = r?.runId ? (tasksByRun[r.runId] ?? []) : [];
    const done = tasks.filter((t) => ["succeeded", "failed", "skipped", "cancelled"].includes(t.status)).length;
    const status = r
      ? r.status
      : jobRun.status === "pending" || jobRun.status === "in_progress"
        ? "pending"
        : "skipped";
    return { workflow, runId: r?.runId ?? null, status, done, total: tasks.length };
  });
}

export function JobRunPage({ route }: { route: Extract<Route, { page: "job-run" }> }) {
  const { api, who } = useSession();
  usePageTitle(route.jobRunId);
  const data = usePolled(
    async () => {
      const jobRun = await api.getJobRun(route.jobRunId);
      const tasks = await Promise.all(
        // A workflow the job run never started has no runId and no tasks.
        jobRun.workflowRuns.flatMap((r) =>
          r.runId
            ? [
                api.getTasks(r.runId).then(
                  (t) => [r.runId, t] as const,
                  () => [r.runId, []] as const,
                ),
              ]
            : [],
        ),
      );
      return { jobRun, tasksByRun: Object.fromEntries(tasks) as Record<string, TaskRecord[]> };
    },
    [route.jobRunId],
    { intervalMs: 1000, keepPolling: (d) => !isTerminalJobRun(d.jobRun.status) },
  );
  const live = data.data ? !isTerminalJobRun(data.data.jobRun.status) : false;
  const now = useNow(live);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);

  if (!data.data) return <NotLoaded loaded={data} what="the job run" errorWhat="job run" />;
  const { jobRun, tasksByRun } = data.data;
  const steps = jobSteps(jobRun, tasksByRun);
  const cancel = async () => {
    setBusy(true);
    setFailure(null);
    try {
      await api.cancelJobRun(jobRun.jobRunId);
      data.reload();
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  };

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/job-runs">Jobs</a>
        <span aria-hidden="true">/</span>
        <span aria-current="page" class="mono">
          {jobRun.jobRunId}
        </span>
      </nav>
      <div class="page-head">
        <div>
          <h1 class="run-title">
            <span class="mono">{jobRun.jobRunId}</span>
            <StatusBadge status={jobRun.status} size="lg" />
          </h1>
          <p class="lead">
            Job <strong>{jobRun.job}</strong>
          </p>
        </div>
        <div class="actions">
          {live && can(who.role, "cancel") ? (
            <button type="button" class="btn btn-danger-outline" onClick={() => setConfirm(true)}>
              Cancel job run
            </button>
          ) : null}
        </div>
      </div>
      <ActionError error={failure} />
      <dl class="facts">
        <Fact label="Created by">{jobRun.createdBy ?? "—"}</Fact>
        <Fact label="Created">
          <span class="mono small">{formatTimestamp(jobRun.createdAt)}</span>
        </Fact>
        <Fact label="Completed">
          <span class="mono small">{formatTimestamp(jobRun.completedAt)}</span>
        </Fact>
        <Fact label="Duration">
          {formatDuration(durationBetween(jobRun.createdAt, jobRun.completedAt, live ? now * 1000 : undefined))}
        </Fact>
      </dl>
      <Card titleId="steps-title" title="Workflow runs">
        <ol class="steps" data-testid="job-steps">
          {steps.map((s, i) => (
            <li
              key={`${s.workflow}-${i}`}
              class={`step status-${s.status}`}
              data-workflow={s.workflow}
              data-status={s.status}
            >
              <span class="step-index" aria-hidden="true">
                {i + 1}
              </span>
              <div class="step-main">
                <div class="step-title">
                  <strong>{s.workflow}</strong>
                  {s.runId ? (
                    <a class="mono small" href={formatRoute({ page: "run", runId: s.runId, tab: "overview" })}>
                      {s.runId}
                    </a>
                  ) : (
                    <span class="muted small">not started</span>
                  )}
                </div>
                {s.runId && s.total > 0 ? (
                  <div class="step-progress">
                    <ProgressBar
                      max={s.total}
                      value={s.done}
                      label={`${s.workflow}: ${s.done} of ${s.total} tasks done`}
                    />
                    <span class="muted small">
                      {s.done}/{s.total} tasks
                    </span>
                  </div>
                ) : null}
              </div>
              <StatusBadge status={s.status} />
            </li>
          ))}
        </ol>
      </Card>
      <ConfirmDialog
        open={confirm}
        title="Cancel this job run?"
        confirmLabel="Cancel job run"
        danger
        busy={busy}
        onConfirm={cancel}
        onCancel={() => setConfirm(false)}
      >
        <p>The running workflow run is cancelled and the workflows after it are not started.</p>
      </ConfirmDialog>
    </>
  );
}
