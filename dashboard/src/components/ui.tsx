// Small building blocks shared by the pages: status badges, states (loading, empty, error), hashes,
// timestamps, pagination, tabs and a confirmation dialog.
import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { formatRelative, formatTimestamp, humanize, shortHash } from "../format.ts";
import type { Loaded } from "../hooks.ts";

/** A status with its colour; the word is always shown so colour is never the only signal. */
export function StatusBadge({ status, size }: { status: string; size?: "lg" }) {
  return (
    <span class={`badge status-${status}${size ? ` badge-${size}` : ""}`} data-status={status}>
      <span class="badge-dot" aria-hidden="true" />
      {humanize(status)}
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <p class="state-title">{title}</p>
      {children ? <div class="state-hint">{children}</div> : null}
    </div>
  );
}

/** An error from loading something, with what the server said and a way to try again. */
export function ErrorBox({ error, what, onRetry }: { error: unknown; what?: string; onRetry?: () => void }) {
  const e = error as Error;
  const api = error instanceof ApiError ? error : null;
  const title =
    api?.status === 404
      ? `${what ? `${capitalize(what)} not` : "Not"} found`
      : api?.status === 403
        ? "Your key may not see this"
        : `Could not load ${what ?? "this"}`;
  return (
    <div class="state state-error" role="alert">
      <p class="state-title">{title}</p>
      <p class="state-hint">
        {e?.message ?? String(error)}
        {api && api.code !== "http_error" ? <span class="muted"> ({api.code})</span> : null}
      </p>
      {onRetry ? (
        <button type="button" class="btn btn-secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** What a resource shows before its first data arrives: a spinner while loading, else the error with a retry. */
export function NotLoaded({
  loaded,
  what,
  errorWhat = what,
}: {
  loaded: Loaded<unknown>;
  what: string;
  errorWhat?: string;
}) {
  return loaded.loading ? (
    <Loading what={what} />
  ) : (
    <ErrorBox error={loaded.error} what={errorWhat} onRetry={loaded.reload} />
  );
}

/** An error returned by an action (trigger, cancel…), shown inline where the action was taken. */
export function ActionError({ error }: { error: unknown }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  return (
    <div class="alert alert-error" role="alert">
      <strong>{api ? messageFor(api) : "Something went wrong."}</strong> {(error as Error).message}
    </div>
  );
}

function messageFor(e: ApiError): string {
  switch (e.status) {
    case 400:
      return "Not accepted:";
    case 403:
      return "Not allowed:";
    case 404:
      return "Not found:";
    case 409:
      return "Conflict:";
    case 429:
      return "Too many requests:";
    default:
      return "Failed:";
  }
}

/** A hash shortened for reading, the full value in a tooltip and one click away from the clipboard. */
export function Hash({ value, chars }: { value: string | null | undefined; chars?: number }) {
  const [copied, setCopied] = useState(false);
  if (!value) return <span class="muted">—</span>;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // Clipboard access can be refused (insecure origin); the tooltip still shows the full value.
    }
  };
  return (
    <span class="hash">
      <code title={value}>{shortHash(value, chars)}</code>
      <button type="button" class="btn-icon" onClick={copy} aria-label={`Copy ${value}`} title="Copy">
        {copied ? (
          <svg width="13" height="13" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="2" />
          </svg>
        ) : (
          <svg width="13" height="13" viewBox="0 0 16 16" aria-hidden="true">
            <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.5" />
            <path
              d="M11 5V3.5A1.5 1.5 0 0 0 9.5 2h-6A1.5 1.5 0 0 0 2 3.5v6A1.5 1.5 0 0 0 3.5 11H5"
              fill="none"
              stroke="currentColor"
              stroke-width="1.5"
            />
          </svg>
        )}
      </button>
    </span>
  );
}

/**
 * A relative time ("5 minutes ago", "in 2 hours"; a bare "5 minutes" with `suffix={false}`) with the exact
 * timestamp (microseconds included) in its tooltip.
 */
export function Time({ iso, now, suffix = true }: { iso: string | null | undefined; now: number; suffix?: boolean }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={formatTimestamp(iso)}>
      {formatRelative(iso, now, suffix)}
    </time>
  );
}

export interface PagerState {
  cursor: string | null;
  page: number;
  next: (nextCursor: string) => void;
  prev: () => void;
}

/** Cursor pagination: the API gives only a next cursor, so the way back is remembered here. */
export function usePager(resetKey: string): PagerState {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  useEffect(() => setStack([null]), [resetKey]);
  const cursor = stack[stack.length - 1] ?? null;
  return {
    cursor,
    page: stack.length,
    next: (nextCursor: string) => setStack((s) => [...s, nextCursor]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
  };
}

/** Newer/older buttons of a cursor-paged list once its first page has loaded; nothing while there is one page. */
export function Pager({ pager, list }: { pager: PagerState; list: { nextCursor: string | null } | undefined }) {
  if (!list) return null;
  const { nextCursor } = list;
  if (pager.page === 1 && !nextCursor) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="btn btn-secondary" onClick={pager.prev} disabled={pager.page === 1}>
        ← Newer
      </button>
      <span class="muted">Page {pager.page}</span>
      <button
        type="button"
        class="btn btn-secondary"
        onClick={() => nextCursor && pager.next(nextCursor)}
        disabled={!nextCursor}
      >
        Older →
      </button>
    </nav>
  );
}

/** The labelled status select of a list's toolbar; choosing "Any status" clears the filter. */
export function StatusFilter({
  id,
  statuses,
  value,
  onChange,
}: {
  id: string;
  statuses: readonly string[];
  value: string | undefined;
  onChange: (status: string | undefined) => void;
}) {
  return (
    <>
      <label for={id}>Status</label>
      <select
        id={id}
        value={value ?? ""}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value || undefined)}
      >
        <option value="">Any status</option>
        {statuses.map((s) => (
          <option key={s} value={s}>
            {humanize(s)}
          </option>
        ))}
      </select>
    </>
  );
}

/**
 * A card section labelled by its h2 title. With `aside` (even null) the title sits in a card head row, with
 * `aside` beside it.
 */
export function Card({
  titleId,
  title,
  aside,
  class: extraClass,
  testId,
  children,
}: {
  titleId: string;
  title: ComponentChildren;
  aside?: ComponentChildren;
  class?: string;
  testId?: string;
  children?: ComponentChildren;
}) {
  const heading = <h2 id={titleId}>{title}</h2>;
  return (
    <section class={extraClass ? `card ${extraClass}` : "card"} aria-labelledby={titleId} data-testid={testId}>
      {aside === undefined ? (
        heading
      ) : (
        <div class="card-head">
          {heading}
          {aside}
        </div>
      )}
      {children}
    </section>
  );
}

export interface TabItem {
  id: string;
  label: string;
  href: string;
  count?: number | undefined;
}

/** Tabs are links: each tab has its own shareable URL. */
export function Tabs({ items, current, label }: { items: TabItem[]; current: string; label: string }) {
  return (
    <nav class="tabs" aria-label={label}>
      {items.map((t) => (
        <a key={t.id} href={t.href} class="tab" aria-current={t.id === current ? "page" : undefined}>
          {t.label}
          {t.count !== undefined ? <span class="tab-count">{t.count}</span> : null}
        </a>
      ))}
    </nav>
  );
}

/** A modal confirmation built on <dialog>, which traps focus and closes on Escape by itself. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger,
  busy,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  // Several dialogs live on one page (cancel, rerun): each needs its own title id.
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onClose={onCancel}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm();
        }}
      >
        <h2 id={titleId} class="dialog-title">
          {title}
        </h2>
        <div class="dialog-body">{children}</div>
        <div class="dialog-actions">
          <button type="button" class="btn btn-secondary" onClick={onCancel}>
            Keep it
          </button>
          <button type="submit" class={`btn ${danger ? "btn-danger" : "btn-primary"}`} disabled={busy}>
            {busy ? "Working…" : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A thin progress bar; a div rather than <progress> so it looks the same in every browser. */
export function ProgressBar({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.min(100, Math.max(0, (value / max) * 100)) : 0;
  return (
    <div class="bar" role="progressbar" aria-valuemin={0} aria-valuemax={max} aria-valuenow={value} aria-label={label}>
      <div class="bar-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

/** A definition list row, for headers made of labelled facts. */
export function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
