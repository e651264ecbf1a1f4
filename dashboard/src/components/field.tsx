// One labelled form field with its hint and error wired up for screen readers.
import type { ComponentChildren } from "preact";

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
