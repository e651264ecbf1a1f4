// The app shell: sign-in, the signed-in header with org and role, navigation and the hash router.
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, createApiClient } from "./api.ts";
import { Loading } from "./components/ui.tsx";
import { type Session, SessionContext, useSession } from "./context.ts";
import { useHash, usePolled } from "./hooks.ts";
import { ApprovalsPage } from "./pages/approvals-page.tsx";
import { JobRunPage } from "./pages/job-run-page.tsx";
import { JobRunsPage } from "./pages/job-runs-page.tsx";
import { KeysPage } from "./pages/keys-page.tsx";
import { RunPage } from "./pages/run-page.tsx";
import { RunsPage } from "./pages/runs-page.tsx";
import { SchedulePage } from "./pages/schedule-page.tsx";
import { SchedulesPage } from "./pages/schedules-page.tsx";
import { Logo, SignIn } from "./pages/sign-in.tsx";
import { SubscriptionPage } from "./pages/subscription-page.tsx";
import { SubscriptionsPage } from "./pages/subscriptions-page.tsx";
import { WorkflowPage } from "./pages/workflow-page.tsx";
import { WorkflowsPage } from "./pages/workflows-page.tsx";
import { formatRoute, parseRoute, type Route } from "./router.ts";
import { clearKey, loadKey, saveKey } from "./session.ts";
import type { WhoAmI } from "./types.ts";

export function App() {
  const [key, setKey] = useState<string | null>(loadKey);
  const [who, setWho] = useState<WhoAmI | null>(null);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [bootError, setBootError] = useState<Error | null>(null);

  const signOut = useCallback((why?: string) => {
    clearKey();
    setKey(null);
    setWho(null);
    setMessage(why);
  }, []);

  const api = useMemo(
    () =>
      key
        ? createApiClient({
            key,
            onUnauthorized: () => signOut("Your key is no longer accepted. Sign in again."),
          })
        : null,
    [key, signOut],
  );

  // A reload keeps the key (sessionStorage) but not who it belongs to: ask again.
  useEffect(() => {
    if (!api || who) return;
    setBootError(null);
    api.whoami().then(setWho, (err: Error) => {
      if (!(err instanceof ApiError && err.status === 401)) setBootError(err);
    });
  }, [api, who]);

  if (!key || !api) {
    return (
      <SignIn
        message={message}
        onSignedIn={(k, w) => {
          saveKey(k);
          setKey(k);
          setWho(w);
          setMessage(undefined);
        }}
      />
    );
  }
  if (!who) {
    return (
      <main id="main" class="signin">
        {bootError ? (
          <div class="signin-card" role="alert">
            <h1>Cannot reach Stepwise</h1>
            <p>{bootError.message}</p>
            <div class="form-actions">
              <button type="button" class="btn btn-primary" onClick={() => setWho(null)}>
                Try again
              </button>
              <button type="button" class="btn btn-secondary" onClick={() => signOut()}>
                Sign out
              </button>
            </div>
          </div>
        ) : (
          <Loading what="your session" />
        )}
      </main>
    );
  }
  const session: Session = { api, who, signOut };
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

function Shell() {
  const hash = useHash();
  const route = parseRoute(hash);
  const main = useRef<HTMLElement>(null);
  const lastPage = useRef<string>(route.page);

  // Moving to another page puts focus at the top of the new content, as a page load would; switching tabs
  // within a page leaves focus where it was.
  useEffect(() => {
    if (lastPage.current !== route.page) {
      main.current?.focus({ preventScroll: false });
      window.scrollTo(0, 0);
    }
    lastPage.current = route.page;
  }, [route.page]);

  return (
    <>
      {/* A button, not a link: with hash routing, href="#main" would navigate to a page called "main". */}
      <button type="button" class="skip-link" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <Header route={route} />
      <main id="main" ref={main} tabIndex={-1} class="main">
        <Page route={route} />
      </main>
    </>
  );
}

const NAV: { page: Route["page"][]; label: string; href: string; adminOnly?: boolean }[] = [
  { page: ["workflows", "workflow"], label: "Workflows", href: "#/workflows" },
  { page: ["runs", "run"], label: "Runs", href: "#/runs" },
  { page: ["approvals"], label: "Approvals", href: "#/approvals" },
  { page: ["job-runs", "job-run"], label: "Jobs", href: "#/job-runs" },
  { page: ["schedules", "schedule"], label: "Schedules", href: "#/schedules" },
  { page: ["subscriptions", "subscription"], label: "Subscriptions", href: "#/subscriptions" },
  { page: ["keys"], label: "Keys", href: "#/keys", adminOnly: true },
];

function Header({ route }: { route: Route }) {
  const { api, who, signOut } = useSession();
  // The inbox count is a hint, not a page: refresh it slowly and stay quiet if it fails.
  // Asked again on every navigation too, so acting on a step updates the count straight away.
  const pending = usePolled(() => api.listApprovals({ limit: 100 }), [], { intervalMs: 5000, keepPolling: () => true });
  const { reload } = pending;
  const hash = formatRoute(route);
  const seen = useRef(hash);
  useEffect(() => {
    if (seen.current !== hash) reload();
    seen.current = hash;
  }, [hash, reload]);
  const count = pending.data?.items.length;
  return (
    <header class="topbar">
      <a class="brand" href="#/workflows" aria-label="Stepwise home">
        <Logo />
        <span>Stepwise</span>
      </a>
      <nav class="nav" aria-label="Main">
        {NAV.filter((n) => !n.adminOnly || who.role === "admin").map((n) => (
          <a
            key={n.href}
            href={n.href}
            class="nav-link"
            aria-current={n.page.includes(route.page) ? "page" : undefined}
          >
            {n.label}
            {n.label === "Approvals" && count ? (
              <span class="nav-count">
                {count >= 100 ? "99+" : count}
                <span class="sr-only"> waiting</span>
              </span>
            ) : null}
          </a>
        ))}
      </nav>
      <div class="identity">
        <span class="identity-text" title={`Key ${who.keyId}`}>
          <span class="identity-org">{who.orgId}</span>
          <span class="role-badge" data-role={who.role}>
            {who.role}
          </span>
          <span class="identity-user">{who.userId}</span>
        </span>
        <button type="button" class="btn btn-ghost btn-sm" onClick={() => signOut("You signed out.")}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "workflows":
      return <WorkflowsPage />;
    case "workflow":
      return <WorkflowPage route={route} />;
    case "runs":
      return <RunsPage route={route} />;
    case "run":
      return <RunPage route={route} />;
    case "approvals":
      return <ApprovalsPage />;
    case "job-runs":
      return <JobRunsPage route={route} />;
    case "job-run":
      return <JobRunPage route={route} />;
    case "schedules":
      return <SchedulesPage />;
    case "schedule":
      return <SchedulePage name={route.name} />;
    case "subscriptions":
      return <SubscriptionsPage />;
    case "subscription":
      return <SubscriptionPage name={route.name} />;
    case "keys":
      return <KeysPage />;
    case "not-found":
      return (
        <div class="state state-error">
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href={formatRoute({ page: "workflows" })}>Go to workflows</a>
            .
          </p>
        </div>
      );
  }
}
