// A subscription's deliveries: each event sent, its status and every attempt, with redeliver.
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { CompactTable, PagedTable } from "../components/data-table.tsx";
import { ActionError, Card, Empty, StatusBadge, Time, usePager } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { formatTimestamp } from "../format.ts";
import { useAction, useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import { formatRoute } from "../router.ts";
import type { Delivery } from "../types-extra.ts";

export function SubscriptionPage({ name }: { name: string }) {
  const { api, who } = useSession();
  usePageTitle(`${name} deliveries`);
  const pager = usePager(`deliveries-${name}`);
  const list = usePolled(() => api.listDeliveries(name, { cursor: pager.cursor, limit: 20 }), [name, pager.cursor], {
    intervalMs: 3000,
    keepPolling: (p) => p.items.some((d) => d.status === "pending"),
  });
  const now = useNow(true, 5000);
  const action = useAction();
  const [open, setOpen] = useState<string | null>(null);
  const mayRedeliver = can(who.role, "subscribe");
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={formatRoute({ page: "subscriptions" })}>Subscriptions</a>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{name}</span>
      </nav>
      <div class="page-head">
        <div>
          <h1>{name}</h1>
          <p class="lead">Deliveries, newest first. A redelivery sends the same event again under the same id.</p>
        </div>
      </div>
      <Card titleId="deliveries-title" title="Deliveries">
        <ActionError error={action.failure} />
        <PagedTable
          list={list}
          pager={pager}
          what="deliveries"
          empty={<Empty title="Nothing sent yet.">Deliveries appear when a subscribed event happens.</Empty>}
          columns={[
            "Event",
            "Status",
            { name: "Attempts", num: true },
            "Response",
            "When",
            { name: "Actions", hidden: true },
          ]}
          row={(d: Delivery) => (
            <Fragment key={d.deliveryId}>
              <tr key={d.deliveryId} data-delivery={d.deliveryId} data-status={d.status}>
                <td data-label="Event">
                  {/* One block, so on a phone (where cells are label + value rows) the lines stack. */}
                  <div>
                    <code>{d.type}</code>
                    <div class="mono small muted">{d.eventId}</div>
                    {d.redeliveryOf ? <div class="small muted">redelivery of {d.redeliveryOf}</div> : null}
                  </div>
                </td>
                <td data-label="Status">
                  <StatusBadge status={d.status} />
                </td>
                <td data-label="Attempts" class="num">
                  {d.attempts}
                </td>
                <td data-label="Response">
                  <div>
                    {d.responseStatus ?? "—"}
                    {d.lastError ? <div class="field-error small">{d.lastError}</div> : null}
                    {d.nextAttemptAt ? (
                      <div class="muted small">
                        next try <Time iso={d.nextAttemptAt} now={now} />
                      </div>
                    ) : null}
                  </div>
                </td>
                <td data-label="When">
                  <Time iso={d.createdAt} now={now} />
                </td>
                <td data-label="">
                  <span class="actions">
                    <button
                      type="button"
                      class="btn btn-ghost btn-sm"
                      aria-expanded={open === d.deliveryId}
                      onClick={() => setOpen(open === d.deliveryId ? null : d.deliveryId)}
                    >
                      {open === d.deliveryId ? "Hide attempts" : "Attempts"}
                    </button>
                    {mayRedeliver ? (
                      <button
                        type="button"
                        class="btn btn-secondary btn-sm"
                        disabled={action.busy !== null}
                        aria-label={`Redeliver ${d.deliveryId}`}
                        onClick={() =>
                          void action
                            .run(d.deliveryId, () => api.redeliver(name, d.deliveryId))
                            .then((ok) => ok && list.reload())
                        }
                      >
                        {action.busy === d.deliveryId ? "Sending…" : "Redeliver"}
                      </button>
                    ) : null}
                  </span>
                </td>
              </tr>
              {open === d.deliveryId ? (
                <tr key={`${d.deliveryId}-attempts`} class="row-detail">
                  <td colSpan={6}>
                    {d.attemptLog.length === 0 ? (
                      <p class="muted">No attempt yet.</p>
                    ) : (
                      <CompactTable columns={["#", "At", "Status code", { name: "Duration", num: true }, "Error"]}>
                        {d.attemptLog.map((a) => (
                          <tr key={a.attempt}>
                            <td>{a.attempt}</td>
                            <td class="mono small">{formatTimestamp(a.at)}</td>
                            <td>{a.statusCode ?? "no answer"}</td>
                            <td class="num">{Math.round(a.durationMs)} ms</td>
                            <td>{a.error ?? ""}</td>
                          </tr>
                        ))}
                      </CompactTable>
                    )}
                  </td>
                </tr>
              ) : null}
            </Fragment>
          )}
        />
      </Card>
    </>
  );
}
