// Pieces shared by the schedules list and a schedule's page: what it starts, what it last did, and the
// enable/disable switch (a PUT of the same schedule with `enabled` flipped).
import { useSession } from "../context.ts";
import { formatTimestamp } from "../format.ts";
import type { ActionState } from "../hooks.ts";
import { usePolled } from "../hooks.ts";
import { formatRoute } from "../router.ts";
import type { Schedule, ScheduleRequest } from "../types-extra.ts";
import { StatusBadge } from "./ui.tsx";

/** The request that stores `s` again as it is, except for what `change` sets. */
export function scheduleRequest(s: Schedule, change: Partial<ScheduleRequest> = {}): ScheduleRequest {
  return {
    target: s.target,
    cron: s.cron,
    timezone: s.timezone,
    parameters: s.parameters ?? {},
    enabled: s.enabled,
    overlap: s.overlap,
    catchupWindowSeconds: s.catchupWindowSeconds,
    ...change,
  };
}

/** "workflow x" or "job y", linked where there is a page for it. */
export function ScheduleTarget({ s }: { s: Schedule }) {
  if ("job" in s.target) {
    return (
      <span>
        job <a href={formatRoute({ page: "job-runs", job: s.target.job })}>{s.target.job}</a>
      </span>
    );
  }
  return (
    <span>
      workflow{" "}
      <a href={formatRoute({ page: "workflow", name: s.target.workflow, tab: "overview" })}>{s.target.workflow}</a>
    </span>
  );
}

/** The last firing's run (with its status), a skipped firing or an error; "never fired" before the first. */
export function LastResult({ s }: { s: Schedule }) {
  const { api } = useSession();
  const run = usePolled(() => (s.lastRunId ? api.getRun(s.lastRunId) : Promise.resolve(null)), [s.lastRunId ?? ""]);
  const job = usePolled(
    () => (s.lastJobRunId ? api.getJobRun(s.lastJobRunId) : Promise.resolve(null)),
    [s.lastJobRunId ?? ""],
  );
  const error = s.lastError ? (typeof s.lastError === "string" ? s.lastError : JSON.stringify(s.lastError)) : null;
  return (
    <span class="last-result" data-testid="last-result">
      {s.lastRunId ? (
        <>
          <a class="mono small" href={formatRoute({ page: "run", runId: s.lastRunId, tab: "overview" })}>
            {s.lastRunId}
          </a>{" "}
          {run.data ? <StatusBadge status={run.data.status} /> : null}
        </>
      ) : s.lastJobRunId ? (
        <>
          <a class="mono small" href={formatRoute({ page: "job-run", jobRunId: s.lastJobRunId })}>
            {s.lastJobRunId}
          </a>{" "}
          {job.data ? <StatusBadge status={job.data.status} /> : null}
        </>
      ) : (
        <span class="muted">never fired</span>
      )}
      {s.lastSkippedFor ? <span class="muted small"> · skipped {formatTimestamp(s.lastSkippedFor)}</span> : null}
      {error ? <span class="field-error small"> · {error}</span> : null}
    </span>
  );
}

/** The button that turns a schedule on or off. */
export function EnableToggle({ s, action, onDone }: { s: Schedule; action: ActionState; onDone: () => void }) {
  const { api } = useSession();
  const key = `toggle-${s.name}`;
  return (
    <button
      type="button"
      class="btn btn-secondary btn-sm"
      disabled={action.busy !== null}
      aria-label={`${s.enabled ? "Disable" : "Enable"} ${s.name}`}
      onClick={() =>
        void action
          .run(key, () => api.putSchedule(s.name, scheduleRequest(s, { enabled: !s.enabled })))
          .then((ok) => ok && onDone())
      }
    >
      {action.busy === key ? "Saving…" : s.enabled ? "Disable" : "Enable"}
    </button>
  );
}
