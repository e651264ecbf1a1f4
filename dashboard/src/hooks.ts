// Data loading for pages: load once, then poll while `keepPolling` says the data is still changing, so
// pages update themselves while something runs and stop asking once it is over.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Loads again now (after an action), keeping the current data on screen meanwhile. */
  reload: () => void;
}

export interface PollOptions<T> {
  intervalMs?: number;
  keepPolling?: (data: T) => boolean;
}

/** Loads `load()` whenever `deps` change and again every `intervalMs` while `keepPolling(data)` holds. */
export function usePolled<T>(load: () => Promise<T>, deps: unknown[], options: PollOptions<T> = {}): Loaded<T> {
  const { intervalMs = 1000 } = options;
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const keepRef = useRef(options.keepPolling);
  keepRef.current = options.keepPolling;
  // Each (re)start gets a generation so that a slow answer for an old page never overwrites a newer one.
  const generation = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [kick, setKick] = useState(0);
  const last = useRef<T | undefined>(undefined);
  const lastDeps = useRef<string | undefined>(undefined);

  useEffect(() => {
    const mine = ++generation.current;
    let stopped = false;
    const run = async () => {
      clearTimeout(timer.current);
      try {
        const data = await loadRef.current();
        if (stopped || mine !== generation.current) return;
        last.current = data;
        setState({ data, loading: false });
        if (keepRef.current?.(data)) timer.current = setTimeout(run, nextDelay(intervalMs));
      } catch (err) {
        if (stopped || mine !== generation.current) return;
        setState((s) => ({ ...s, error: err as Error, loading: false }));
        // Keep trying while polling, more slowly: a blip in the network should not freeze the page.
        if (last.current !== undefined && keepRef.current?.(last.current)) {
          timer.current = setTimeout(run, intervalMs * 3);
        }
      }
    };
    // A reload keeps what is on screen; a different page (other deps) starts from a clean slate.
    const depsKey = JSON.stringify(deps);
    const samePage = lastDeps.current === depsKey;
    lastDeps.current = depsKey;
    if (!samePage) last.current = undefined;
    setState((s) => (samePage ? { ...s, error: undefined } : { loading: true }));
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer.current);
    };
    // The effect depends on the page's deps and on reload requests only; load and keepPolling are read
    // through refs so a new closure on every render does not restart polling.
  }, [...deps, kick]);

  const reload = useCallback(() => setKick((k) => k + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

// A hidden tab still polls, but four times less often: nobody is watching, and the server is shared.
function nextDelay(intervalMs: number): number {
  return typeof document !== "undefined" && document.visibilityState === "hidden" ? intervalMs * 4 : intervalMs;
}

/** The current time, ticking every `intervalMs` while `active`, for durations of things still running. */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (!active) return;
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [active, intervalMs]);
  return now;
}

/** Whether a CSS media query matches, following changes (e.g. rotating a phone). */
export function useMediaQuery(query: string): boolean {
  const get = () => typeof window !== "undefined" && window.matchMedia(query).matches;
  const [matches, setMatches] = useState(get);
  useEffect(() => {
    const mql = window.matchMedia(query);
    const onChange = () => setMatches(mql.matches);
    onChange();
    mql.addEventListener("change", onChange);
    return () => mql.removeEventListener("change", onChange);
  }, [query]);
  return matches;
}

/** The page's hash, following navigation. */
export function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

/** Sets the tab title, so history entries and tabs say which page they are. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Stepwise` : "Stepwise";
  }, [title]);
}

export interface ActionState {
  /** The key of the action under way (a button's name), or null. */
  busy: string | null;
  failure: unknown;
  /** Runs `fn` under `key`, keeping its error to show next to the button; resolves to whether it worked. */
  run: (key: string, fn: () => Promise<unknown>) => Promise<boolean>;
}

/** The busy flag and last error of the buttons of a page section (enable, revoke, redeliver…). */
export function useAction(): ActionState {
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const run = useCallback(async (key: string, fn: () => Promise<unknown>) => {
    setBusy(key);
    setFailure(null);
    try {
      await fn();
      return true;
    } catch (err) {
      setFailure(err);
      return false;
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, failure, run };
}
