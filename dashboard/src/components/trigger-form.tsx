// A trigger form generated from a workflow's typed parameters. Server validation errors (400 details
// naming `parameters.<key>`) are shown next to the field they are about.
import { useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { useSession } from "../context.ts";
import { formatValue } from "../format.ts";
import { coerceParameters, fieldErrorsFromDetails, initialParameterValues, type RawValues } from "../forms.ts";
import type { ParameterSpec } from "../types.ts";
import { describedBy, Field } from "./field.tsx";
import { ActionError } from "./ui.tsx";

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
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // One idempotency key per form fill: a double click or a retried request starts one run, not two.
  const [idempotencyKey, setIdempotencyKey] = useState(newKey);
  const names = Object.keys(parameters);

  const set = (key: string, value: string) => {
    setRaw((r) => ({ ...r, [key]: value }));
    setIdempotencyKey(newKey());
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const { values, errors: local } = coerceParameters(parameters, raw);
    setErrors(local);
    setFailure(null);
    if (Object.keys(local).length > 0) {
      focusFirstError(local, names);
      return;
    }
    setBusy(true);
    try {
      const result = await api.triggerWorkflow(workflow, values, idempotencyKey);
      setIdempotencyKey(newKey());
      onTriggered(result.runId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        const { byField, other } = fieldErrorsFromDetails(err.details, names);
        setErrors(byField);
        focusFirstError(byField, names);
        if (other.length > 0 || Object.keys(byField).length === 0) setFailure(err);
      } else {
        setFailure(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={submit} noValidate={false} aria-label={`Trigger ${workflow}`}>
      {names.length === 0 ? <p class="muted">This workflow takes no parameters.</p> : null}
      {Object.entries(parameters).map(([key, p]) => {
        const id = `param-${key}`;
        const error = errors[key];
        const hint = [p.description, p.default !== undefined ? `Default: ${formatValue(p.default)}` : ""]
          .filter(Boolean)
          .join(" · ");
        const common = {
          id,
          name: key,
          "aria-invalid": error ? true : undefined,
          "aria-describedby": describedBy(id, hint, error),
        };
        const value = String(raw[key] ?? "");
        return (
          <Field key={key} id={id} label={key} tag={p.type} required={p.required} hint={hint} error={error}>
            {p.type === "boolean" ? (
              <select
                {...common}
                value={value}
                onChange={(e) => set(key, (e.currentTarget as HTMLSelectElement).value)}
              >
                <option value="">{p.required ? "Choose…" : "Not set"}</option>
                <option value="true">true</option>
                <option value="false">false</option>
              </select>
            ) : p.type === "json" ? (
              <textarea
                {...common}
                class="mono"
                rows={4}
                spellcheck={false}
                value={value}
                onInput={(e) => set(key, (e.currentTarget as HTMLTextAreaElement).value)}
              />
            ) : (
              <input
                {...common}
                type="text"
                inputMode={p.type === "number" ? "decimal" : undefined}
                autoComplete="off"
                required={p.required && p.default === undefined}
                value={value}
                onInput={(e) => set(key, (e.currentTarget as HTMLInputElement).value)}
              />
            )}
          </Field>
        );
      })}
      <ActionError error={failure} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? "Starting…" : "Trigger run"}
        </button>
      </div>
    </form>
  );
}

/** Moves focus to the first field with an error, so keyboard and screen-reader users land on it. */
export function focusFirstError(errors: Record<string, string>, order: string[], prefix = "param-"): void {
  const first = order.find((n) => errors[n]);
  if (first) requestAnimationFrame(() => document.getElementById(`${prefix}${first}`)?.focus());
}
