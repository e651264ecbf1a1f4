// A secret the server shows exactly once (a new API key, a webhook or subscription signing secret): it is
// displayed with a copy button and a plain warning, and is gone from the page once dismissed.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

/** Shows `value` once, with a copy button; `onDone` drops it from the page. */
export function SecretOnce({
  label,
  value,
  extra,
  onDone,
}: {
  label: string;
  value: string;
  extra?: ComponentChildren;
  onDone: () => void;
}) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // Clipboard access can be refused (plain http on another host): the value stays selectable.
    }
  };
  return (
    <div class="secret-once" role="status" data-testid="secret-once">
      <p>
        <strong>{label}</strong> This is the only time it is shown: copy it now and keep it somewhere safe.
      </p>
      <div class="secret-row">
        <input
          class="mono"
          type="text"
          readOnly
          value={value}
          aria-label={label}
          data-testid="secret-value"
          onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
        />
        <button type="button" class="btn btn-secondary btn-sm" onClick={() => void copy()}>
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      {extra}
      <div class="form-actions">
        <button type="button" class="btn btn-primary btn-sm" onClick={onDone}>
          I have saved it
        </button>
      </div>
    </div>
  );
}
