// The form that creates or edits a schedule: target, cron and time zone, overlap policy, catch-up window and
// parameters. The server validates the cron and the time zone; its 400 details are shown by the field.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import type { Overlap, Schedule, ScheduleRequest } from "../types-extra.ts";
import { Field, FormActions, useFieldForm } from "./field.tsx";

const FIELDS = ["name", "target", "cron", "timezone", "overlap", "catchupWindowSeconds", "parameters"];

interface Draft {
  name: string;
  kind: "workflow" | "job";
  target: string;
  cron: string;
  timezone: string;
  overlap: Overlap;
  catchup: string;
  parameters: string;
  enabled: boolean;
}

function draftOf(s: Schedule | undefined): Draft {
  if (!s) {
    return {
      name: "",
      kind: "workflow",
      target: "",
      cron: "0 9 * * MON-FRI",
      timezone: "UTC",
      overlap: "skip",
      catchup: "0",
      parameters: "{}",
      enabled: true,
    };
  }
  const kind = "job" in s.target ? "job" : "workflow";
  return {
    name: s.name,
    kind,
    target: "job" in s.target ? s.target.job : s.target.workflow,
    cron: s.cron,
    timezone: s.timezone,
    overlap: s.overlap,
    catchup: String(s.catchupWindowSeconds),
    parameters: JSON.stringify(s.parameters ?? {}, null, 2),
    enabled: s.enabled,
  };
}

/** Creates a schedule (no `schedule`) or edits one; `onSaved` gets what the server stored. */
export function ScheduleForm({ schedule, onSaved }: { schedule?: Schedule; onSaved: (saved: Schedule) => void }) {
  const { api } = useSession();
  const [d, setD] = useState<Draft>(() => draftOf(schedule));
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((cur) => ({ ...cur, [k]: v }));
  const { errors, failure, busy, submit } = useFieldForm({
    names: FIELDS,
    prefix: "sched-",
    coerce: () => {
      const errs: Record<string, string> = {};
      if (!d.name.trim()) errs.name = "Give the schedule a name.";
      if (!d.target.trim()) errs.target = `Name the ${d.kind} to start.`;
      const catchup = Number(d.catchup);
      if (!Number.isInteger(catchup) || catchup < 0) errs.catchupWindowSeconds = "Enter whole seconds, 0 or more.";
      let parameters: unknown = {};
      try {
        parameters = d.parameters.trim() ? JSON.parse(d.parameters) : {};
        if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters))
          errs.parameters = "Parameters are a JSON object.";
      } catch (err) {
        errs.parameters = `Not valid JSON: ${(err as Error).message}`;
      }
      const body: ScheduleRequest = {
        target: d.kind === "job" ? { job: d.target.trim() } : { workflow: d.target.trim() },
        cron: d.cron.trim(),
        timezone: d.timezone.trim() || "UTC",
        parameters: parameters as Record<string, unknown>,
        enabled: d.enabled,
        overlap: d.overlap,
        catchupWindowSeconds: catchup,
      };
      return { values: { body }, errors: errs };
    },
    send: async (values) => {
      const saved = await api.putSchedule(d.name.trim(), values.body as ScheduleRequest);
      onSaved(saved);
    },
  });
  const input = (k: keyof Draft) => (e: Event) => set(k, (e.currentTarget as HTMLInputElement).value as never);

  return (
    <form class="form" onSubmit={submit} aria-label={schedule ? `Edit ${schedule.name}` : "New schedule"}>
      {schedule ? null : (
        <Field id="sched-name" label="Name" required error={errors.name}>
          <input id="sched-name" type="text" required value={d.name} onInput={input("name")} autoComplete="off" />
        </Field>
      )}
      <div class="grid-2 tight">
        <Field id="sched-kind" label="Starts a" required>
          <select id="sched-kind" value={d.kind} onChange={input("kind")}>
            <option value="workflow">workflow</option>
            <option value="job">job</option>
          </select>
        </Field>
        <Field id="sched-target" label={d.kind === "job" ? "Job" : "Workflow"} required error={errors.target}>
          <input id="sched-target" type="text" required value={d.target} onInput={input("target")} />
        </Field>
        <Field
          id="sched-cron"
          label="Cron"
          required
          hint="Five fields: minute hour day-of-month month day-of-week, e.g. 0 9 * * MON-FRI"
          error={errors.cron}
        >
          <input id="sched-cron" class="mono" type="text" required value={d.cron} onInput={input("cron")} />
        </Field>
        <Field
          id="sched-timezone"
          label="Time zone"
          required
          hint="An IANA name, e.g. Europe/Berlin"
          error={errors.timezone}
        >
          <input id="sched-timezone" type="text" required value={d.timezone} onInput={input("timezone")} />
        </Field>
        <Field id="sched-overlap" label="If the last run is still going" required error={errors.overlap}>
          <select id="sched-overlap" value={d.overlap} onChange={input("overlap")}>
            <option value="skip">skip this firing</option>
            <option value="allow">start another run</option>
            <option value="buffer_one">start it when the last one ends</option>
          </select>
        </Field>
        <Field
          id="sched-catchupWindowSeconds"
          label="Catch-up window (seconds)"
          required
          hint="Firings missed while the service was down are made up within this window; 0 makes up none."
          error={errors.catchupWindowSeconds}
        >
          <input
            id="sched-catchupWindowSeconds"
            type="text"
            inputMode="numeric"
            value={d.catchup}
            onInput={input("catchup")}
          />
        </Field>
      </div>
      <Field
        id="sched-parameters"
        label="Parameters (JSON)"
        hint="Given to every run it starts."
        error={errors.parameters}
      >
        <textarea
          id="sched-parameters"
          class="mono"
          rows={3}
          spellcheck={false}
          value={d.parameters}
          onInput={input("parameters")}
        />
      </Field>
      <label class="checkbox">
        <input
          type="checkbox"
          checked={d.enabled}
          onChange={(e) => set("enabled", (e.currentTarget as HTMLInputElement).checked)}
        />
        <span>Enabled</span>
      </label>
      <FormActions
        failure={failure}
        busy={busy}
        label={schedule ? "Save schedule" : "Create schedule"}
        busyLabel="Saving…"
      />
    </form>
  );
}
