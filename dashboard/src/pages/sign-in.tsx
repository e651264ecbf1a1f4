// Sign-in with an API key. The key is checked with GET /api/whoami before it is kept for the session.
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError, createApiClient } from "../api.ts";
import type { WhoAmI } from "../types.ts";

export function SignIn({
  message,
  onSignedIn,
}: {
  message?: string | undefined;
  onSignedIn: (key: string, who: WhoAmI) => void;
}) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const keyField = useRef<HTMLInputElement>(null);
  // Focus as soon as the field exists: the autofocus attribute alone waits for the browser's next frame and is
  // ignored altogether when the page already had focus (after signing out, for instance).
  useLayoutEffect(() => keyField.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Enter your API key.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const who = await createApiClient({ key: trimmed }).whoami();
      onSignedIn(trimmed, who);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? "This key was not accepted. Check that you copied all of it."
          : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <form class="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div class="brand brand-lg">
          <Logo />
          <span>Stepwise</span>
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p class="muted">
          Use an API key of your organisation. It is kept in this browser tab only and forgotten when the tab is closed.
        </p>
        {message ? (
          <p class="alert alert-info" role="status">
            {message}
          </p>
        ) : null}
        <div class={`field${error ? " has-error" : ""}`}>
          <label for="api-key" class="field-label">
            <span class="field-name">API key</span>
          </label>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autoComplete="off"
            spellcheck={false}
            ref={keyField}
            value={key}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "api-key-error" : "api-key-hint"}
            onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
          />
          <p id="api-key-hint" class="field-hint">
            Running locally? <code>npm start</code> prints a key and saves it in <code>.stepwise/local.json</code>.
          </p>
          {error ? (
            <p id="api-key-error" class="field-error" role="alert">
              {error}
            </p>
          ) : null}
        </div>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

export function Logo() {
  return (
    <svg class="logo" width="24" height="24" viewBox="0 0 24 24" aria-hidden="true">
      <rect x="2" y="3" width="8" height="6" rx="2" />
      <rect x="14" y="9" width="8" height="6" rx="2" />
      <rect x="2" y="15" width="8" height="6" rx="2" />
      <path d="M10 6h2a2 2 0 0 1 2 2v1M10 18h2a2 2 0 0 0 2-2v-1" fill="none" stroke-width="1.6" />
    </svg>
  );
}
