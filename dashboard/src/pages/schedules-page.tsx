// Schedules of the org: what each starts, its cron, the next firing and the last result, with enable/disable
// and a form for a new one.
import { useState } from "preact/hooks";
import { PagedTable } from "../components/data-table.tsx";
import { EnableToggle, LastResult, ScheduleTarget } from "../components/schedule-bits.tsx";
import { ScheduleForm } from "../components/schedule-form.tsx";
import { ActionError, Card, Empty, Time, usePager } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { useAction, useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import { formatRoute } from "../router.ts";

export function SchedulesPage() {
  const { api, who } = useSession();
  usePageTitle("Schedules");
  const pager = usePager("schedules");
  const list = usePolled(() => api.listSchedules({ cursor: pager.cursor, limit: 50 }), [pager.cursor], {
    intervalMs: 10_000,
    keepPolling: () => true,
  });
  const now = useNow(true, 30_000);
  const action = useAction();
  const mayEdit = can(who.role, "schedule");
  const [creating, setCreating] = useState(false);
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Schedules</h1>
          <p class="lead">Cron schedules that start a workflow or a job.</p>
        </div>
        {mayEdit && !creating ? (
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
            New schedule
          </button>
        ) : null}
      </div>
      {creating ? (
        <Card titleId="new-schedule-title" title="New schedule" class="narrow">
          <ScheduleForm
            onSaved={(s) => {
              setCreating(false);
              window.location.hash = formatRoute({ page: "schedule", name: s.name });
            }}
          />
        </Card>
      ) : null}
      <Card titleId="schedules-title" title="All schedules">
        <ActionError error={action.failure} />
        <PagedTable
          list={list}
          pager={pager}
          what="schedules"
          empty={<Empty title="No schedules yet.">A schedule starts runs on a cron, in a time zone.</Empty>}
          columns={["Name", "Starts", "Cron", "Next fire", "Last result", { name: "Actions", hidden: true }]}
          row={(s) => (
            <tr key={s.name} data-schedule={s.name} data-enabled={String(s.enabled)}>
              <td data-label="Name">
                <a href={formatRoute({ page: "schedule", name: s.name })}>{s.name}</a>
                {s.enabled ? null : <span class="pill pill-muted">disabled</span>}
              </td>
              <td data-label="Starts">
                <ScheduleTarget s={s} />
              </td>
              <td data-label="Cron">
                <code>{s.cron}</code> <span class="muted small">{s.timezone}</span>
              </td>
              <td data-label="Next fire" data-testid="next-fire">
                {s.enabled && s.nextRunAt ? <Time iso={s.nextRunAt} now={now} /> : <span class="muted">—</span>}
              </td>
              <td data-label="Last result">
                <LastResult s={s} />
              </td>
              <td data-label="">{mayEdit ? <EnableToggle s={s} action={action} onDone={list.reload} /> : null}</td>
            </tr>
          )}
        />
      </Card>
    </>
  );
}
