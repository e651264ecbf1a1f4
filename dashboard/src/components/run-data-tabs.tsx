// The run page's data tabs: parameters, context and files.
import { useState } from "preact/hooks";
import { useSession } from "../context.ts";
import { formatBytes, formatValue } from "../format.ts";
import { usePolled } from "../hooks.ts";
import { formatRoute } from "../router.ts";
import { saveBlob } from "../save-blob.ts";
import type { Run } from "../types.ts";
import { CardTable } from "./data-table.tsx";
import { KeyValueTable } from "./task-detail.tsx";
import { ActionError, Card, Empty, Hash, NotLoaded } from "./ui.tsx";

/** The parameters a run was started with. */
export function Parameters({ run }: { run: Run }) {
  const entries = Object.entries(run.parameters ?? {});
  return (
    <Card titleId="run-params-title" title="Parameters">
      {entries.length === 0 ? (
        <p class="muted">This run has no parameters.</p>
      ) : (
        <KeyValueTable entries={entries} cells={(v) => <td class="mono">{formatValue(v)}</td>} />
      )}
    </Card>
  );
}

/** The run's context: each key with its type, value and the node that wrote it. */
export function ContextTable({ run }: { run: Run }) {
  const entries = Object.entries(run.context ?? {});
  return (
    <Card titleId="context-title" title="Context">
      {entries.length === 0 ? (
        <Empty title="The context is empty.">
          Nodes write to it by returning values (scripts) or through $STEPWISE_OUTPUT (commands).
        </Empty>
      ) : (
        <CardTable columns={["Key", "Type", "Value", "Written by"]} testId="context">
          {entries.map(([k, e]) => (
            <tr key={k} data-key={k}>
              <th scope="row" class="mono" data-label="Key">
                {k}
              </th>
              <td data-label="Type">
                <span class="type-tag">{e.type}</span>
              </td>
              <td data-label="Value">
                {e.type === "json" ? (
                  <pre class="code small">{formatValue(e.value, true)}</pre>
                ) : (
                  <span class="mono">{formatValue(e.value)}</span>
                )}
              </td>
              <td data-label="Written by">
                {e.writtenBy ? (
                  <a
                    href={formatRoute({ page: "run", runId: run.runId, tab: "overview", node: e.writtenBy })}
                    class="mono"
                  >
                    {e.writtenBy}
                  </a>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </CardTable>
      )}
    </Card>
  );
}

/** The run's files with their hashes and producers, each downloadable. */
export function FilesTab({ runId, live }: { runId: string; live: boolean }) {
  const { api } = useSession();
  const files = usePolled(() => api.listFiles(runId), [runId], { intervalMs: 2000, keepPolling: () => live });
  const [failure, setFailure] = useState<unknown>(null);
  const [busyPath, setBusyPath] = useState<string | null>(null);

  // Downloads need the bearer key, which a plain link cannot send: fetch, then hand the bytes to the browser.
  const download = async (path: string) => {
    setBusyPath(path);
    setFailure(null);
    try {
      saveBlob(await api.downloadFile(runId, path), path.split("/").pop() || "file");
    } catch (err) {
      setFailure(err);
    } finally {
      setBusyPath(null);
    }
  };

  return (
    <Card titleId="files-title" title="Files">
      <ActionError error={failure} />
      {files.data === undefined ? (
        <NotLoaded loaded={files} what="files" />
      ) : files.data.items.length === 0 ? (
        <Empty title="No files.">What a node writes under out/ becomes a run file.</Empty>
      ) : (
        <CardTable
          columns={["Path", { name: "Size", num: true }, "SHA-256", "Produced by", { name: "Download", hidden: true }]}
          testId="files"
        >
          {files.data.items.map((f) => (
            <tr key={f.path} data-file={f.path}>
              <td class="mono" data-label="Path">
                {f.path}
              </td>
              <td class="num" data-label="Size">
                {formatBytes(f.size)}
              </td>
              <td data-label="SHA-256">
                <Hash value={f.sha256} />
              </td>
              <td class="mono" data-label="Produced by">
                {f.producedBy ?? "—"}
              </td>
              <td data-label="">
                <button
                  type="button"
                  class="btn btn-secondary btn-sm"
                  onClick={() => void download(f.path)}
                  disabled={busyPath === f.path}
                  aria-label={`Download ${f.path}`}
                >
                  {busyPath === f.path ? "Downloading…" : "Download"}
                </button>
              </td>
            </tr>
          ))}
        </CardTable>
      )}
    </Card>
  );
}
