import { lstat, readdir } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import type { FileRef, TaskRecord } from "../domain/records.ts";
import type { WorkflowNode } from "../domain/workflow.ts";
import { findSecretInFile, maskableSecrets, SecretInOutputError, secretMasker } from "../engine/secret-mask.ts";
import { fileKey } from "../engine/storage-keys.ts";
import type { FileHooks } from "../ports/file-hooks.ts";
import type { RunState } from "../ports/run-store.ts";
import { type FileUse, indexFileUses } from "./file-uses.ts";
import { contentTypeOf, downloadVerified, InputMissingError, uploadHashed } from "./hashing.ts";

/** How many run files of one task are uploaded or downloaded at once. */
const TRANSFER_CONCURRENCY = 4;

/** One version of a run file: what a task attempt wrote under out/. */
export interface ProducedFile extends FileRef {
  producedBy: string;
  attempt: number;
  /** Whether the attempt that wrote it succeeded: a failed attempt's files are evidence, not run files. */
  succeeded: boolean;
  endedAt: string | null;
}

/**
 * Where the bytes of a run file written by one task attempt live. Keyed by producer so that two nodes writing the
 * same path keep both versions as evidence (the run's file list shows the later one).
 */
export const runFileKey = (orgId: string, runId: string, nodeId: string, attempt: number, path: string): string =>
  fileKey(orgId, runId, `${nodeId}/${attempt}/${path}`);

/**
 * Where a file version's bytes are stored: under the run that produced it. A task a restart carried over names that
 * run in `reusedFrom`, so the new run refers to the same stored content instead of a copy.
 */
export function storedFileKey(
  orgId: string,
  runId: string,
  producer: { reusedFrom?: { runId: string } | null } | undefined,
  nodeId: string,
  attempt: number,
  path: string,
): string {
  return runFileKey(orgId, producer?.reusedFrom?.runId ?? runId, nodeId, attempt, path);
}

/** Every file version any attempt of any task of the run produced, in the order they were written. */
export function producedFiles(tasks: Iterable<TaskRecord>): ProducedFile[] {
  const out: ProducedFile[] = [];
  for (const t of tasks) {
    // Attempts hold the evidence; a task record without attempts (never ran) has no outputs either.
    for (const a of t.attempts ?? []) {
      for (const f of a.outputs ?? [])
        out.push({
          path: f.path,
          sha256: f.sha256,
          size: f.size,
          producedBy: t.nodeId,
          attempt: a.attempt,
          succeeded: a.status === "succeeded",
          endedAt: a.endedAt,
        });
    }
  }
  // µs ISO timestamps of one format sort as strings; ties (never in practice) fall back to node id.
  return out.sort(
    (a, b) =>
      (a.endedAt ?? "").localeCompare(b.endedAt ?? "") ||
      a.producedBy.localeCompare(b.producedBy) ||
      a.attempt - b.attempt ||
      a.path.localeCompare(b.path),
  );
}

/** The run's files as a user sees them: one per path, the latest writer winning, sorted by path. */
export function currentFiles(tasks: Iterable<TaskRecord>): Map<string, ProducedFile> {
  const byPath = new Map<string, ProducedFile>();
  for (const f of producedFiles(tasks)) if (f.succeeded) byPath.set(f.path, f);
  return new Map([...byPath.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** A run file path as a definition names it: relative, no `..`, forward slashes. */
export function normalizeRunPath(raw: string): string {
  const p = posix.normalize(raw.replace(/\\/g, "/")).replace(/^\.\//, "");
  if (!p || p === "." || p.startsWith("/") || p === ".." || p.startsWith("../") || p.endsWith("/"))
    throw new InputMissingError(`'${raw}' is not a relative file path`);
  return p;
}

/** Every regular file under a directory, as sorted relative paths; links and special files are refused. */
async function listTree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listTree(root, path)));
    else if (entry.isFile()) out.push(path);
    else if (entry.isSymbolicLink())
      throw new Error(`out/${path} is a symbolic link; run files must be regular files (copy the content instead)`);
    else throw new Error(`out/${path} is not a regular file`);
  }
  return out.sort();
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Throws a SecretInOutputError when a file under out/ holds a secret value of the run (or its name does): stored, it
 * would be served to anyone who may read the run. The message names the file and the input field, never the value.
 */
async function refuseSecretFiles(outDir: string, paths: string[], secrets: Record<string, string>): Promise<void> {
  const mask = secretMasker(secrets);
  const badName = paths.find((p) => mask(p) !== p);
  if (badName !== undefined)
    throw new SecretInOutputError(
      `the file out/${mask(badName)} has a secret value in its name; files whose names hold a secret are not stored`,
    );
  const hits = await mapLimit(paths, TRANSFER_CONCURRENCY, async (path) => ({
    path,
    secret: await findSecretInFile(join(outDir, path), secrets),
  }));
  const found = hits.filter((h) => h.secret !== null);
  const first = found[0];
  if (!first) return;
  const more = found.length > 1 ? ` (and ${found.length - 1} more file${found.length > 2 ? "s" : ""})` : "";
  throw new SecretInOutputError(
    `out/${first.path} contains the value of secret input '${first.secret}'${more}; ` +
      "a file holding a secret is not stored, and no file of this attempt was uploaded",
  );
}

const declaredInputs = (node: WorkflowNode): string[] => ("inputs" in node ? (node.inputs ?? []) : []);

const attemptOf = (state: RunState, node: WorkflowNode): number => state.tasks.get(node.id)?.attempt || 1;

/**
 * The engine's file hooks: inputs are downloaded into in/ and checked against the record before the task starts;
 * what the task wrote under out/ is uploaded with its hash and size. Both are indexed for cross-run lineage.
 */
export function makeFileHooks(deps: Deps): Required<Pick<FileHooks, "prepareInputs" | "collectOutputs" | "inputsOf">> {
  // Inputs actually placed for the attempt being run, kept until the engine records the attempt.
  const placed = new Map<string, FileRef[]>();
  const memoKey = (state: RunState, node: WorkflowNode) => `${state.run.orgId}/${state.run.runId}/${node.id}`;

  return {
    async prepareInputs(state, node, inDir) {
      const wanted = declaredInputs(node);
      const refs: FileRef[] = [];
      placed.set(memoKey(state, node), refs);
      if (!wanted.length) return;
      const files = currentFiles(state.tasks.values());
      const plan = wanted.map((raw) => {
        const path = normalizeRunPath(raw);
        const file = files.get(path);
        if (!file) {
          const known = [...files.keys()];
          throw new InputMissingError(
            `input '${path}' is not a file of this run${known.length ? ` (run files: ${known.slice(0, 20).join(", ")})` : " (no node wrote any file yet)"}`,
          );
        }
        return file;
      });
      const { orgId, runId } = state.run;
      await mapLimit(plan, TRANSFER_CONCURRENCY, async (file) => {
        const producer = state.tasks.get(file.producedBy);
        const key = storedFileKey(orgId, runId, producer, file.producedBy, file.attempt, file.path);
        await downloadVerified(deps.blobs, key, join(inDir, file.path), file);
        refs.push({ path: file.path, sha256: file.sha256, size: file.size });
      });
      refs.sort((a, b) => a.path.localeCompare(b.path));
      const attempt = attemptOf(state, node);
      await indexFileUses(
        deps,
        state.run,
        refs.map((r): FileUse => ({ ...r, role: "read", nodeId: node.id, attempt })),
        nowIso(deps.clock),
      );
    },

    async collectOutputs(state, node, outcome, secrets = {}) {
      const paths = await listTree(outcome.outDir);
      const { orgId, runId } = state.run;
      const attempt = attemptOf(state, node);
      for (const path of paths)
        for (const part of path.split("/"))
          if (part === "..") throw new Error(`out/${path}: '..' is not allowed in a run file path`);
      // Only a run with secrets pays for the scan; it runs over every file before any is uploaded.
      if (maskableSecrets(secrets).length) await refuseSecretFiles(outcome.outDir, paths, secrets);
      const refs = await mapLimit(paths, TRANSFER_CONCURRENCY, async (path) => {
        const local = (await lstat(join(outcome.outDir, path))).isFile() ? join(outcome.outDir, path) : null;
        if (!local) throw new Error(`out/${path} is not a regular file`);
        const digest = await uploadHashed(
          deps.blobs,
          runFileKey(orgId, runId, node.id, attempt, path),
          local,
          contentTypeOf(path),
          secrets,
        ).catch((err: Error) => {
          if (err instanceof SecretInOutputError) throw new SecretInOutputError(`out/${path}: ${err.message}`);
          throw err;
        });
        return { path, sha256: digest.sha256, size: digest.size };
      });
      await indexFileUses(
        deps,
        state.run,
        refs.map((r): FileUse => ({ ...r, role: "produced", nodeId: node.id, attempt })),
        nowIso(deps.clock),
      );
      return refs;
    },

    inputsOf(state, node) {
      const key = memoKey(state, node);
      const refs = placed.get(key) ?? [];
      placed.delete(key);
      return refs;
    },
  };
}
