// The inbox of human steps waiting for someone in the org.
import { Empty, NotLoaded, StatusBadge, Time } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { parseMicros } from "../format.ts";
import { useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can, selfApprovalBlocked } from "../permissions.ts";
import { formatRoute } from "../router.ts";
import type { PendingHumanStep } from "../types.ts";

const workflowName = (s: PendingHumanStep): string | undefined =>
  typeof s.workflow === "string" ? s.workflow : s.workflow?.name;

export function ApprovalsPage() {
  const { api, who } = useSession();
  usePageTitle("Approvals");
  const inbox = usePolled(() => api.listApprovals({ limit: 100 }), [], { intervalMs: 3000, keepPolling: () => true });
  const now = useNow(true, 5000);
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Approvals</h1>
          <p class="lead">Human steps waiting for a decision or an input.</p>
        </div>
      </div>
      {inbox.data === undefined ? (
        <NotLoaded loaded={inbox} what="the inbox" />
      ) : inbox.data.items.length === 0 ? (
        <Empty title="Nothing is waiting for a person.">Runs that reach an approval or input step show up here.</Empty>
      ) : (
        <ul class="inbox" data-testid="inbox">
          {inbox.data.items.map((s) => {
            const kind = s.type === "input" ? "input" : "approval";
            const status = kind === "input" ? "awaiting_input" : "awaiting_approval";
            const wf = workflowName(s);
            const href = formatRoute({ page: "run", runId: s.runId, tab: "overview", node: s.nodeId });
            const mayAnswer =
              can(who.role, kind === "input" ? "input" : "decide", s.whoMayAnswer) &&
              !(kind === "approval" && selfApprovalBlocked(who.userId, s.triggeredBy, s.allowSelfApproval));
            return (
              <li key={`${s.runId}/${s.nodeId}`} class="inbox-item" data-run={s.runId} data-node={s.nodeId}>
                <div class="inbox-main">
                  <div class="inbox-title">
                    <span class="type-tag">{kind}</span>
                    <a href={href}>
                      <strong>{s.nodeId}</strong>
                      {wf ? <span> in {wf}</span> : null}
                    </a>
                  </div>
                  {s.description ? <p class="inbox-desc">{s.description}</p> : null}
                  <div class="inbox-meta muted">
                    <span class="mono">{s.runId}</span>
                    {s.triggeredBy ? <span> · started by {s.triggeredBy}</span> : null}
                    {s.since ? (
                      <span>
                        {" "}
                        · waiting for <Time iso={s.since} now={now} suffix={false} />
                      </span>
                    ) : null}
                    {s.approvals ? (
                      <span>
                        {" "}
                        · {s.approvals.received} of {s.approvals.required} approvals
                      </span>
                    ) : null}
                    {s.whoMayAnswer?.length ? <span> · for {s.whoMayAnswer.join(", ")}</span> : null}
                    {s.timeoutAt ? (
                      <span>
                        {" "}
                        · {(parseMicros(s.timeoutAt) ?? 0) / 1000 < now ? "timed out" : "times out"}{" "}
                        <Time iso={s.timeoutAt} now={now} />
                      </span>
                    ) : null}
                  </div>
                </div>
                <div class="inbox-side">
                  <StatusBadge status={status} />
                  <a class={`btn btn-sm ${mayAnswer ? "btn-primary" : "btn-secondary"}`} href={href}>
                    {!mayAnswer ? "View" : kind === "input" ? "Answer" : "Review"}
                  </a>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
