// The form that starts a job run: for each workflow of the job, in order, a field per parameter it declares,
// prefilled with the job's own values or the parameter's default. Only what differs from the job's
// configuration is sent, as {"wf": {...}}; the server's 400 details are shown by the field they name.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { formatValue } from "../format.ts";
import { coerceParameters, initialParameterValues, type RawValues } from "../forms.ts";
import { usePolled } from "../hooks.ts";
import type { ParameterSpec } from "../types.ts";
import type { JobWithParameters } from "../types-extra.ts";
import { FormActions, FormField, useFieldForm } from "./field.tsx";
import { NotLoaded } from "./ui.tsx";

type Specs = { workflow: string; parameters: Record<string, ParameterSpec> }[];

/** Starts `job` with the parameters entered; `onStarted` gets the new job run's id. */
export function JobStartForm({ job, onStarted }: { job: JobWithParameters; onStarted: (jobRunId: string) => void }) {
  const { api } = useSession();
  const order = job.workflowExecutionOrder ?? [];
  const specs = usePolled<Specs>(
    () =>
      Promise.all(
        order.map(async (workflow) => ({
          workflow,
          parameters: (await api.getWorkflow(workflow)).definition.parameters ?? {},
        })),
      ),
    [job.name, order.join(",")],
  );
  if (specs.data === undefined) return <NotLoaded loaded={specs} what="the workflows' parameters" />;
  return <JobParameters job={job} specs={specs.data} onStarted={onStarted} />;
}

const fieldId = (job: string, wf: string, key: string): string => `job-${job}-${wf}-${key}`;

function JobParameters({
  job,
  specs,
  onStarted,
}: {
  job: JobWithParameters;
  specs: Specs;
  onStarted: (jobRunId: string) => void;
}) {
  const { api } = useSession();
  const configured = job.parameters ?? {};
  const [raw, setRaw] = useState<Record<string, RawValues>>(() =>
    Object.fromEntries(
      specs.map(({ workflow, parameters }) => {
        const withJob: Record<string, ParameterSpec> = {};
        for (const [k, p] of Object.entries(parameters)) {
          const own = configured[workflow]?.[k];
          withJob[k] = own !== undefined ? { ...p, default: own } : p;
        }
        return [workflow, initialParameterValues(withJob)];
      }),
    ),
  );
  // Field names for error placement are "<workflow>.<parameter>", as the server's detail paths name them.
  const names = specs.flatMap(({ workflow, parameters }) => Object.keys(parameters).map((k) => `${workflow}.${k}`));
  const { errors, failure, busy, submit } = useFieldForm({
    names,
    prefix: `job-${job.name}-`,
    coerce: () => {
      const values: Record<string, Record<string, unknown>> = {};
      const errs: Record<string, string> = {};
      for (const { workflow, parameters } of specs) {
        const c = coerceParameters(parameters, raw[workflow] ?? {});
        for (const [k, e] of Object.entries(c.errors)) errs[`${workflow}.${k}`] = e;
        const changed = Object.entries(c.values).filter(
          ([k, v]) => JSON.stringify(v) !== JSON.stringify(configured[workflow]?.[k]),
        );
        if (changed.length > 0) values[workflow] = Object.fromEntries(changed);
      }
      return { values, errors: errs };
    },
    send: async (values) => {
      const { jobRunId } = await api.startJob(job.name, Object.keys(values).length > 0 ? values : undefined);
      onStarted(jobRunId);
    },
  });
  const detailErrors = (wf: string, key: string): string | undefined => errors[`${wf}.${key}`] ?? errors[key];

  return (
    <form class="form job-start" onSubmit={submit} aria-label={`Start ${job.name}`}>
      {specs.map(({ workflow, parameters }) => (
        <fieldset key={workflow} class="param-group" data-workflow={workflow}>
          <legend>
            {workflow}
            {Object.keys(parameters).length === 0 ? <span class="muted small"> · no parameters</span> : null}
          </legend>
          {Object.entries(parameters).map(([key, p]) => {
            const own = configured[workflow]?.[key];
            const value = String(raw[workflow]?.[key] ?? "");
            const set = (v: string) => setRaw((r) => ({ ...r, [workflow]: { ...r[workflow], [key]: v } }));
            return (
              <FormField
                key={key}
                id={fieldId(job.name, workflow, key)}
                name={key}
                tag={p.type}
                required={Boolean(p.required) && own === undefined && p.default === undefined}
                hints={[
                  p.description,
                  own !== undefined ? `The job sets ${formatValue(own)}` : "",
                  own === undefined && p.default !== undefined ? `Default: ${formatValue(p.default)}` : "",
                ]}
                error={detailErrors(workflow, key)}
              >
                {(control) => (
                  <input
                    {...control}
                    id={fieldId(job.name, workflow, key)}
                    type="text"
                    class={p.type === "json" ? "mono" : undefined}
                    inputMode={p.type === "number" ? "decimal" : undefined}
                    autoComplete="off"
                    value={value}
                    onInput={(e) => set(e.currentTarget.value)}
                  />
                )}
              </FormField>
            );
          })}
        </fieldset>
      ))}
      <FormActions failure={failure} busy={busy} label="Start job run" busyLabel="Starting…" />
    </form>
  );
}
