// A trigger form generated from a workflow's typed parameters. Server validation errors (400 details
// naming `parameters.<key>`) are shown next to the field they are about.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { formatValue } from "../format.ts";
import { coerceParameters, initialParameterValues, type RawValues } from "../forms.ts";
import type { ParameterSpec } from "../types.ts";
import { FormActions, FormField, useFieldForm } from "./field.tsx";

const newKey = (): string =>
  typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;

export function TriggerForm({
  workflow,
  parameters = {},
  onTriggered,
}: {
  workflow: string;
  parameters?: Record<string, ParameterSpec>;
  onTriggered: (runId: string) => void;
}) {
  const { api } = useSession();
  const [raw, setRaw] = useState<RawValues>(() => initialParameterValues(parameters));
  // One idempotency key per form fill: a double click or a retried request starts one run, not two.
  const [idempotencyKey, setIdempotencyKey] = useState(newKey);
  const names = Object.keys(parameters);
  const { errors, failure, busy, submit } = useFieldForm({
    names,
    coerce: () => coerceParameters(parameters, raw),
    send: async (values) => {
      const result = await api.triggerWorkflow(workflow, values, idempotencyKey);
      setIdempotencyKey(newKey());
      onTriggered(result.runId);
    },
  });

  const set = (key: string, value: string) => {
    setRaw((r) => ({ ...r, [key]: value }));
    setIdempotencyKey(newKey());
  };

  return (
    <form class="form" onSubmit={submit} noValidate={false} aria-label={`Trigger ${workflow}`}>
      {names.length === 0 ? <p class="muted">This workflow takes no parameters.</p> : null}
      {Object.entries(parameters).map(([key, p]) => {
        const value = String(raw[key] ?? "");
        return (
          <FormField
            key={key}
            id={`param-${key}`}
            name={key}
            tag={p.type}
            required={p.required}
            hints={[p.description, p.default !== undefined ? `Default: ${formatValue(p.default)}` : ""]}
            error={errors[key]}
          >
            {(control) =>
              p.type === "boolean" ? (
                <select
                  {...control}
                  value={value}
                  onChange={(e) => set(key, (e.currentTarget as HTMLSelectElement).value)}
                >
                  <option value="">{p.required ? "Choose…" : "Not set"}</option>
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              ) : p.type === "json" ? (
                <textarea
                  {...control}
                  class="mono"
                  rows={4}
                  spellcheck={false}
                  value={value}
                  onInput={(e) => set(key, (e.currentTarget as HTMLTextAreaElement).value)}
                />
              ) : (
                <input
                  {...control}
                  type="text"
                  inputMode={p.type === "number" ? "decimal" : undefined}
                  autoComplete="off"
                  required={p.required && p.default === undefined}
                  value={value}
                  onInput={(e) => set(key, (e.currentTarget as HTMLInputElement).value)}
                />
              )
            }
          </FormField>
        );
      })}
      <FormActions failure={failure} busy={busy} label="Trigger run" busyLabel="Starting…" />
    </form>
  );
}
