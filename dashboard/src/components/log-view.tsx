// Per-node logs, fetched again every second while the run is going. The view sticks to the bottom as
// lines arrive, unless the reader has scrolled up to read something.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { usePolled } from "../hooks.ts";
import { ErrorBox, Loading } from "./ui.tsx";

export function LogView({
  runId,
  node,
  nodes,
  live,
  onNodeChange,
}: {
  runId: string;
  node?: string | undefined;
  nodes: string[];
  live: boolean;
  onNodeChange: (node: string | undefined) => void;
}) {
  const { api } = useSession();
  const logs = usePolled(() => api.getLogs(runId, node), [runId, node], { keepPolling: () => live });
  const pre = useRef<HTMLPreElement>(null);
  const [follow, setFollow] = useState(true);

  // Polling stops with the run; one more fetch picks up the lines written at the very end.
  const wasLive = useRef(live);
  useEffect(() => {
    if (wasLive.current && !live) logs.reload();
    wasLive.current = live;
  }, [live]);

  useLayoutEffect(() => {
    const el = pre.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [logs.data, follow]);

  const onScroll = () => {
    const el = pre.current;
    if (!el) return;
    setFollow(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
  };

  const selectId = `log-node-${runId}`;
  return (
    <section class="logs" aria-label="Logs">
      <div class="toolbar">
        <label for={selectId}>Node</label>
        <select
          id={selectId}
          value={node ?? ""}
          onChange={(e) => onNodeChange((e.currentTarget as HTMLSelectElement).value || undefined)}
        >
          <option value="">All nodes</option>
          {nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        {live ? (
          <span class="live" role="status">
            <span class="live-dot" aria-hidden="true" /> Following live
          </span>
        ) : null}
        {live && !follow ? (
          <button type="button" class="btn btn-secondary btn-sm" onClick={() => setFollow(true)}>
            Jump to latest
          </button>
        ) : null}
      </div>
      {logs.data === undefined && logs.loading ? (
        <Loading what="logs" />
      ) : logs.data === undefined && logs.error ? (
        <ErrorBox error={logs.error} what="logs" onRetry={logs.reload} />
      ) : (
        <pre
          ref={pre}
          class="log-text"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling log must take focus so keyboards can scroll it
          tabIndex={0}
          title={node ? `Logs of ${node}` : "Logs of all nodes"}
          onScroll={onScroll}
          data-testid="logs"
        >
          {logs.data ? logs.data : <span class="muted">{live ? "No output yet." : "This produced no output."}</span>}
        </pre>
      )}
    </section>
  );
}
