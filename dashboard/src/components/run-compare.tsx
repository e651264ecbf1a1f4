// The compare tab of a run: pick another run (its rerun or restart source, or a recent run of the same
// workflow) and see, per task, whether definition, inputs, outputs and context writes match by hash.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { usePolled } from "../hooks.ts";
import { formatRoute } from "../router.ts";
import type { Run } from "../types.ts";
import type { Differs } from "../types-extra.ts";
import { CardTable } from "./data-table.tsx";
import { Field } from "./field.tsx";
import { Card, NotLoaded, StatusBadge } from "./ui.tsx";

/** Compares `run` with the run named by `other` (from the URL), offering candidates when none is chosen. */
export function RunCompare({ run, other }: { run: Run; other: string | undefined }) {
  const { api } = useSession();
  const recent = usePolled(() => api.listRuns({ workflow: run.workflow.name, limit: 20 }), [run.workflow.name]);
  const source = run.rerunOf ?? (run as Run & { restartOf?: string | null }).restartOf ?? null;
  const [typed, setTyped] = useState(other ?? source ?? "");
  const go = (id: string) => {
    window.location.hash = formatRoute({ page: "run", runId: run.runId, tab: "compare", with: id });
  };
  const candidates = (recent.data?.items ?? []).filter((r) => r.runId !== run.runId);
  return (
    <>
      <Card titleId="compare-pick-title" title="Compare with another run">
        <form
          class="form inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (typed.trim()) go(typed.trim());
          }}
        >
          <Field id="compare-with" label="Other run" required hint="A run id; recent runs of this workflow are listed.">
            <input
              id="compare-with"
              class="mono"
              type="text"
              list="compare-candidates"
              value={typed}
              onInput={(e) => setTyped(e.currentTarget.value)}
              placeholder="run_…"
            />
          </Field>
          <datalist id="compare-candidates">
            {candidates.map((r) => (
              <option key={r.runId} value={r.runId}>
                {r.status} · {r.createdAt}
              </option>
            ))}
          </datalist>
          <div class="form-actions">
            <button type="submit" class="btn btn-primary">
              Compare
            </button>
          </div>
        </form>
      </Card>
      {other ? <ComparisonResult runId={run.runId} other={other} /> : null}
    </>
  );
}

function ComparisonResult({ runId, other }: { runId: string; other: string }) {
  const { api } = useSession();
  const cmp = usePolled(() => api.compareRuns(runId, other), [runId, other]);
  if (cmp.data === undefined) return <NotLoaded loaded={cmp} what="the comparison" errorWhat="comparison" />;
  const c = cmp.data;
  return (
    <Card
      titleId="compare-title"
      title={
        <>
          Against{" "}
          <a class="mono" href={formatRoute({ page: "run", runId: other, tab: "overview" })}>
            {other}
          </a>
        </>
      }
      aside={
        <span class={`badge ${c.identical ? "status-succeeded" : "status-failed"}`} data-testid="compare-verdict">
          {c.identical ? "identical" : "differs"}
        </span>
      }
      testId="comparison"
      class="wrap-anywhere"
    >
      <p>{c.summary}</p>
      <ul class="plain small">
        <li>
          Definition: {c.definition.match ? "same" : "different"}{" "}
          {c.definition.match ? null : (
            <span class="mono muted">
              ({short(c.definition.run)} vs {short(c.definition.other)})
            </span>
          )}
        </li>
        <li>
          Parameters: {c.parameters.match ? "same" : "different"}
          <DiffList items={c.parameters.differs} />
        </li>
      </ul>
      <CardTable
        columns={["Node", "Status", "Definition", "Inputs", "Outputs", "Context", "What differs"]}
        testId="compare-tasks"
      >
        {c.tasks.map((t) => (
          <tr
            key={t.nodeId}
            data-node={t.nodeId}
            data-match={String(t.match)}
            class={t.match ? undefined : "row-differs"}
          >
            <th scope="row" class="mono" data-label="Node">
              {t.nodeId}
            </th>
            <td data-label="Status">
              {t.status.run ? <StatusBadge status={t.status.run} /> : "—"}
              {t.status.match ? null : <> vs {t.status.other ? <StatusBadge status={t.status.other} /> : "—"}</>}
            </td>
            <td data-label="Definition">
              <Mark ok={t.definition.match} />
            </td>
            <td data-label="Inputs">
              <Mark ok={t.inputs.match} />
            </td>
            <td data-label="Outputs">
              <Mark ok={t.outputs.match} />
            </td>
            <td data-label="Context">
              <Mark ok={t.outputVariables.match} />
            </td>
            <td data-label="What differs" class="small">
              {t.differences.length === 0 ? <span class="muted">nothing</span> : t.differences.join(" ")}
            </td>
          </tr>
        ))}
      </CardTable>
    </Card>
  );
}

function Mark({ ok }: { ok: boolean }) {
  return (
    <span class={ok ? "mark-ok" : "mark-bad"}>
      <span aria-hidden="true">{ok ? "✓" : "✕"}</span> {ok ? "same" : "differs"}
    </span>
  );
}

function DiffList({ items }: { items: Differs[] }) {
  if (items.length === 0) return null;
  return (
    <ul class="plain">
      {items.map((d) => (
        <li key={d.name} class="mono">
          {d.name}: {d.run ?? "—"} → {d.other ?? "—"}
        </li>
      ))}
    </ul>
  );
}

const short = (h: string | null): string => (h ? `${h.slice(0, 19)}…` : "—");
