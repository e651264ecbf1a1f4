// The run page's audit tab (the hash-chained trail and its verification) and lineage tab.
import { useSession } from "../context.ts";
import { formatTimestamp, humanize } from "../format.ts";
import { usePolled } from "../hooks.ts";
import { formatRoute } from "../router.ts";
import { CardTable } from "./data-table.tsx";
import { LineageView } from "./lineage-view.tsx";
import { Card, Empty, Hash, NotLoaded } from "./ui.tsx";

/** The audit trail of a run with its verification. */
export function AuditTab({ runId, live }: { runId: string; live: boolean }) {
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

/** The lineage graph of a run. */
export function LineageTab({ runId, live }: { runId: string; live: boolean }) {
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
