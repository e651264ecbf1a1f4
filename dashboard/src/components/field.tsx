// Labelled form fields with their hints and errors wired up for screen readers, and the submit flow shared by
// the forms generated from typed specs (a workflow's parameters, an input step's fields).
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { type Coerced, fieldErrorsFromDetails } from "../forms.ts";
import { ActionError } from "./ui.tsx";

/** One labelled field: its label (with type tag and required/optional), the control, then its hint and error. */
export function Field({
  id,
  label,
  tag,
  required,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  tag?: string;
  required?: boolean | undefined;
  hint?: string | undefined;
  error?: string | undefined;
  children: ComponentChildren;
}) {
  return (
    <div class={`field${error ? " has-error" : ""}`}>
      <label for={id} class="field-label">
        <span class="field-name">{label}</span>
        {tag ? <span class="field-tag">{tag}</span> : null}
        {required ? <span class="field-required">required</span> : <span class="field-optional">optional</span>}
      </label>
      {children}
      {hint ? (
        <p id={`${id}-hint`} class="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} class="field-error" role="alert" data-field-error={id}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** aria-describedby for a field's control: its hint and error, when present. */
export function describedBy(id: string, hint?: string, error?: string): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

/** What a generated field's control needs to be tied to its label, hint and error. */
export interface ControlProps {
  id: string;
  name: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

/** A generated form's field: the hint joins the non-empty `hints`; `children` renders the control from its props. */
export function FormField({
  id,
  name,
  tag,
  required,
  hints,
  error,
  children,
}: {
  id: string;
  name: string;
  tag: string;
  required: boolean | undefined;
  hints: (string | undefined)[];
  error: string | undefined;
  children: (control: ControlProps) => ComponentChildren;
}) {
  const hint = hints.filter(Boolean).join(" · ");
  const control: ControlProps = {
    id,
    name,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy(id, hint, error),
  };
  return (
    <Field id={id} label={name} tag={tag} required={required} hint={hint} error={error}>
      {children(control)}
    </Field>
  );
}

/** Moves focus to the first field with an error, so keyboard and screen-reader users land on it. */
export function focusFirstError(errors: Record<string, string>, order: string[], prefix = "param-"): void {
  const first = order.find((n) => errors[n]);
  if (first) requestAnimationFrame(() => document.getElementById(`${prefix}${first}`)?.focus());
}

/**
 * The state and submit handler of a generated form: `coerce` checks what was typed first; then `send` goes to the
 * server, whose 400 details are shown next to the fields they name (anything else as the form's failure).
 */
export function useFieldForm({
  names,
  prefix,
  coerce,
  send,
}: {
  names: string[];
  /** The prefix of the fields' ids (default `param-`), to focus the first one in error. */
  prefix?: string;
  coerce: () => Coerced;
  send: (values: Record<string, unknown>) => Promise<void>;
}) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const { values, errors: local } = coerce();
    setErrors(local);
    setFailure(null);
    if (Object.keys(local).length > 0) {
      focusFirstError(local, names, prefix);
      return;
    }
    setBusy(true);
    try {
      await send(values);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        const { byField, other } = fieldErrorsFromDetails(err.details, names);
        setErrors(byField);
        focusFirstError(byField, names, prefix);
        if (other.length > 0 || Object.keys(byField).length === 0) setFailure(err);
      } else {
        setFailure(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return { errors, failure, busy, submit };
}

/** The end of a generated form: the failure of the last submit, if any, and the submit button. */
export function FormActions({
  failure,
  busy,
  label,
  busyLabel,
}: {
  failure: unknown;
  busy: boolean;
  label: string;
  busyLabel: string;
}) {
  return (
    <>
      <ActionError error={failure} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? busyLabel : label}
        </button>
      </div>
    </>
  );
}
