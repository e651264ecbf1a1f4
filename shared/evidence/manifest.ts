import { hashJson } from "../domain/hash.ts";
import type { RunRecord, TaskRecord } from "../domain/records.ts";
import type { RunState } from "../ports/run-store.ts";
import { producedFiles } from "./run-files.ts";

export const MANIFEST_FORMAT = "stepwise-evidence-manifest/1";

/** Everything a run's evidence root covers. */
export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  runId: string;
  orgId: string;
  workflow: RunRecord["workflow"];
  definitionHash: string;
  engineVersion: string;
  parameters: Record<string, unknown>;
  /** The run record as it ended (without the root itself). */
  run: Omit<RunRecord, "root">;
  /** Every task record with every attempt's evidence, by node id. */
  tasks: TaskRecord[];
  /** Every file version written, by producer. */
  files: Array<{ path: string; sha256: string; size: number; producedBy: string; attempt: number }>;
  /** The head of the audit chain just before the run's terminal event. */
  audit: { seq: number; hash: string };
}

/** The manifest of a run's records at an audit head; pure, so the seal, the API and offline verify agree. */
export function buildManifest(run: RunRecord, tasks: TaskRecord[], head: { seq: number; hash: string }): Manifest {
  const { root: _root, ...runRest } = run;
  const sortedTasks = [...tasks].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  const files = producedFiles(sortedTasks)
    .map(({ path, sha256, size, producedBy, attempt }) => ({ path, sha256, size, producedBy, attempt }))
    .sort((a, b) => a.producedBy.localeCompare(b.producedBy) || a.attempt - b.attempt || a.path.localeCompare(b.path));
  return {
    format: MANIFEST_FORMAT,
    runId: run.runId,
    orgId: run.orgId,
    workflow: run.workflow,
    definitionHash: run.workflow.definitionHash,
    engineVersion: run.engineVersion,
    parameters: run.parameters,
    run: runRest,
    tasks: sortedTasks,
    files,
    audit: { seq: head.seq, hash: head.hash },
  };
}

/** The one hash that stands for a manifest: sha256 of its canonical JSON. */
export const manifestRoot = (m: Manifest): string => hashJson(m);

/**
 * The root a run is sealed with as it ends: the manifest of its records with the run as its terminal record and
 * the audit head just before the terminal event. The engine stores it on the run in that same terminal write.
 */
export const rootAtEnd = (state: RunState, terminal: RunRecord): string =>
  // Through JSON first: the root must be of the records as stored (undefined dropped), which is what verify reads.
  manifestRoot(JSON.parse(JSON.stringify(buildManifest(terminal, [...state.tasks.values()], state.head))));
