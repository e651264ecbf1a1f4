// One schedule: its state (next firing, last result, buffered or skipped firings), the edit form, and delete.
import { useState } from "preact/hooks";
import { EnableToggle, LastResult, ScheduleTarget } from "../components/schedule-bits.tsx";
import { ScheduleForm } from "../components/schedule-form.tsx";
import { ActionError, Card, ConfirmDialog, Fact, NotLoaded, Time } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { formatTimestamp, formatValue } from "../format.ts";
import { useAction, useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import { formatRoute } from "../router.ts";

export function SchedulePage({ name }: { name: string }) {
  const { api, who } = useSession();
  usePageTitle(name);
  const s = usePolled(() => api.getSchedule(name), [name], { intervalMs: 10_000, keepPolling: () => true });
  const now = useNow(true, 30_000);
  const action = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [saved, setSaved] = useState(0);
  const mayEdit = can(who.role, "schedule");
  if (s.data === undefined) return <NotLoaded loaded={s} what="the schedule" errorWhat="schedule" />;
  const sc = s.data;
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={formatRoute({ page: "schedules" })}>Schedules</a>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{sc.name}</span>
      </nav>
      <div class="page-head">
        <div>
          <h1>
            {sc.name} {sc.enabled ? null : <span class="pill pill-muted">disabled</span>}
          </h1>
          <p class="lead">
            Starts <ScheduleTarget s={sc} /> at <code>{sc.cron}</code> ({sc.timezone}).
          </p>
        </div>
        {mayEdit ? (
          <div class="actions">
            <EnableToggle s={sc} action={action} onDone={s.reload} />
            <button type="button" class="btn btn-danger-outline" onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          </div>
        ) : null}
      </div>
      <ActionError error={action.failure} />
      <dl class="facts">
        <Fact label="Next fire">
          {sc.enabled && sc.nextRunAt ? (
            <span data-testid="next-fire">
              <Time iso={sc.nextRunAt} now={now} /> <span class="muted small">{formatTimestamp(sc.nextRunAt)}</span>
            </span>
          ) : (
            <span class="muted">not while disabled</span>
          )}
        </Fact>
        <Fact label="Last result">
          <LastResult s={sc} />
        </Fact>
        <Fact label="Last fired for">{formatTimestamp(sc.lastFiredFor ?? null)}</Fact>
        <Fact label="Overlap">{sc.overlap.replace("_", " ")}</Fact>
        <Fact label="Catch-up window">{sc.catchupWindowSeconds} s</Fact>
        {sc.buffered ? <Fact label="Buffered firing">{formatTimestamp(sc.buffered)}</Fact> : null}
        <Fact label="Parameters">
          <span class="mono small">{formatValue(sc.parameters)}</span>
        </Fact>
        <Fact label="Updated">
          {formatTimestamp(sc.updatedAt)} <span class="muted">by {sc.updatedBy}</span>
        </Fact>
      </dl>
      {mayEdit ? (
        <Card titleId="edit-schedule-title" title="Edit" class="narrow">
          {saved > 0 ? (
            <p class="alert alert-info" role="status">
              Saved.
            </p>
          ) : null}
          <ScheduleForm
            key={`${sc.updatedAt}-${saved}`}
            schedule={sc}
            onSaved={() => {
              setSaved((n) => n + 1);
              s.reload();
            }}
          />
        </Card>
      ) : null}
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete schedule ${sc.name}?`}
        confirmLabel="Delete schedule"
        danger
        busy={action.busy === "delete"}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() =>
          void action
            .run("delete", () => api.deleteSchedule(sc.name))
            .then((ok) => {
              setConfirmDelete(false);
              if (ok) window.location.hash = formatRoute({ page: "schedules" });
            })
        }
      >
        <p>It stops firing. Runs it already started are not touched.</p>
      </ConfirmDialog>
    </>
  );
}
