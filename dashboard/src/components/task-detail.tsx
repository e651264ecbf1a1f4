// The evidence of one node of a run: its facts, command, files, context writes and every attempt.
import type { ComponentChildren } from "preact";
import { consoleLink, identityLabels } from "../evidence-links.ts";
import { durationBetween, formatBytes, formatDuration, formatTimestamp, formatValue } from "../format.ts";
import { formatRoute } from "../router.ts";
import type { Run, TaskRecord, WorkflowNode } from "../types.ts";
import { isTerminalRun } from "../types.ts";
import type { AttemptEvidence } from "../types-extra.ts";
import { ApprovalPanel, InputPanel } from "./human-step.tsx";
import { Fact, Hash, StatusBadge } from "./ui.tsx";

/** The selected node's evidence on the run page. */
export function TaskDetail({
  run,
  task,
  node,
  now,
  reload,
}: {
  run: Run;
  task: TaskRecord;
  node: WorkflowNode | undefined;
  now: number;
  reload: () => void;
}) {
  const live = !isTerminalRun(run.status) && !["succeeded", "failed", "skipped", "cancelled"].includes(task.status);
  const attempts = task.attempts ?? [];
  const human = task.type === "approval" || task.type === "input";
  const labels = identityLabels(task.type);
  const link = consoleLink(task);
  return (
    <section class="card" aria-labelledby="task-title" data-task={task.nodeId}>
      <div class="card-head">
        <h2 id="task-title">
          Node <code>{task.nodeId}</code> <span class="type-tag">{task.type}</span>
        </h2>
        <StatusBadge status={task.status} />
      </div>
      {human && !["awaiting_approval", "awaiting_input"].includes(task.status) ? (
        task.type === "approval" ? (
          <ApprovalPanel
            runId={run.runId}
            startedBy={run.trigger.userId ?? run.createdBy}
            node={node}
            task={task}
            onDone={reload}
          />
        ) : (
          <InputPanel runId={run.runId} node={node} task={task} onDone={reload} />
        )
      ) : null}
      <dl class="facts">
        <Fact label="Attempt">
          {task.attempt ?? 1}
          {node?.retry?.maxAttempts ? <span class="muted"> of {node.retry.maxAttempts}</span> : null}
        </Fact>
        <Fact label="Duration">
          {formatDuration(
            task.durationMs !== null && task.durationMs !== undefined
              ? task.durationMs * 1000
              : durationBetween(task.startedAt ?? task.waitingSince, task.endedAt, live ? now * 1000 : undefined),
          )}
        </Fact>
        <Fact label="Started">
          <span class="mono small">{formatTimestamp(task.startedAt ?? task.waitingSince)}</span>
        </Fact>
        <Fact label="Ended">
          <span class="mono small">{formatTimestamp(task.endedAt)}</span>
        </Fact>
        {task.exitCode !== null && task.exitCode !== undefined ? <Fact label="Exit code">{task.exitCode}</Fact> : null}
        {task.codeHash ? (
          <Fact label="Code hash">
            <Hash value={task.codeHash} />
          </Fact>
        ) : null}
        {task.image ? <Fact label={labels.what}>{<span class="mono small">{task.image}</span>}</Fact> : null}
        {task.imageHash ? (
          <Fact label={labels.hash}>
            <Hash value={task.imageHash} />
          </Fact>
        ) : null}
        {task.host ? (
          <Fact label="Host">
            {task.host}
            {link ? (
              <>
                {" "}
                <a href={link.href} target="_blank" rel="noreferrer">
                  {link.label} ↗
                </a>
              </>
            ) : null}
          </Fact>
        ) : null}
      </dl>
      {attempts.length > 1 || (task.attempt ?? 1) > 1 ? <AttemptHistory attempts={attempts} /> : null}
      {task.error ? (
        <div class="alert alert-error">
          <strong>{task.error.code}:</strong> {task.error.message}
        </div>
      ) : null}
      {task.command ? (
        <>
          <h3 class="h-small">Command</h3>
          <pre class="code">{task.command}</pre>
        </>
      ) : null}
      {(task.inputs?.length ?? 0) + (task.outputs?.length ?? 0) > 0 ? (
        <div class="grid-2">
          <FileRefs title="Inputs" files={task.inputs ?? []} />
          <FileRefs title="Outputs" files={task.outputs ?? []} />
        </div>
      ) : null}
      {task.outputVariables && Object.keys(task.outputVariables).length > 0 ? (
        <>
          <h3 class="h-small">Wrote to context</h3>
          <KeyValueTable
            entries={Object.entries(task.outputVariables)}
            cells={(v) => (
              <>
                <td>
                  <span class="type-tag">{v.type}</span>
                </td>
                <td class="mono">{formatValue(v.value)}</td>
              </>
            )}
          />
        </>
      ) : null}
      <p>
        <a href={formatRoute({ page: "run", runId: run.runId, tab: "logs", node: task.nodeId })}>
          Logs of {task.nodeId} →
        </a>
      </p>
    </section>
  );
}

function FileRefs({ title, files }: { title: string; files: { path: string; sha256: string; size: number }[] }) {
  return (
    <div>
      <h3 class="h-small">{title}</h3>
      {files.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="plain">
          {files.map((f) => (
            <li key={f.path}>
              <span class="mono">{f.path}</span> <span class="muted">{formatBytes(f.size)}</span>{" "}
              <Hash value={f.sha256} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A table of named values, one row each: the name as the row's header, then the cells `cells` makes of the value. */
export function KeyValueTable<T>({
  entries,
  cells,
}: {
  entries: [string, T][];
  cells: (value: T) => ComponentChildren;
}) {
  return (
    <table class="table compact kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row" class="mono">
              {k}
            </th>
            {cells(v)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Every attempt of a retried task, oldest first, each with its outcome and, on request, its output. */
function AttemptHistory({ attempts }: { attempts: AttemptEvidence[] }) {
  return (
    <div class="attempts" data-testid="attempts">
      <h3 class="h-small">Attempts ({attempts.length})</h3>
      <ol class="attempt-list">
        {attempts.map((a) => (
          <li key={a.attempt} class={`attempt status-${a.status}`} data-attempt={a.attempt} data-status={a.status}>
            <div class="attempt-head">
              <strong>Attempt {a.attempt}</strong> <StatusBadge status={a.status} />
              <span class="muted small">
                {formatTimestamp(a.startedAt)} · {formatDuration(a.durationMs !== null ? a.durationMs * 1000 : null)}
                {a.exitCode !== null && a.exitCode !== undefined ? ` · exit ${a.exitCode}` : ""}
              </span>
            </div>
            {a.error ? (
              <p class="attempt-error">
                <strong>{a.error.code}:</strong> {a.error.message}
              </p>
            ) : null}
            {a.stdout || a.stderr ? (
              <details>
                <summary>Output of attempt {a.attempt}</summary>
                {a.stdout ? <pre class="code small">{a.stdout}</pre> : null}
                {a.stderr ? <pre class="code small stderr">{a.stderr}</pre> : null}
              </details>
            ) : null}
          </li>
        ))}
      </ol>
    </div>
  );
}
