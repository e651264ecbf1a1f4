import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import type { BlobStore } from "../ports/blob-store.ts";
import { bundleFilePath, bundleLogPath } from "./bundle-paths.ts";
import { withBundleEntry } from "./bundle-problems.ts";
import { type Digest, HashingStream } from "./hashing.ts";
import { manifestRoot } from "./manifest.ts";
import { taskRecordsOf } from "./stored-records.ts";
import { readTar, TarWriter } from "./tar.ts";
import {
  type ContentSource,
  type EvidenceMaterial,
  manifestAtSeal,
  type VerifyReport,
  verifyMaterial,
} from "./verify.ts";

export const BUNDLE_FORMAT = "stepwise-evidence-bundle/1";
/** JSON entries larger than this are refused by the reader rather than loaded into memory. */
const MAX_JSON_ENTRY_BYTES = 512 * 1024 * 1024;

const README = `Stepwise evidence bundle

bundle.json           what this is: run id, root, when it was exported
manifest.json         the run's evidence manifest; sha256 of its canonical JSON (RFC 8785) is the root
records/run.json      the stored run record
records/tasks.json    the stored task records (every attempt's evidence)
records/audit.json    the hash-chained audit events, each with its change to the record it produced (a delta)
                      and the hash of the version that gives
records/workflow.json the workflow definition the run executed
files/<node>/<attempt>/<path>  every file a task wrote under out/
logs/<node>/<attempt>.log      every attempt's full log

Check it with no server:  stepwise verify <this file>
`;

export { bundleFilePath, bundleLogPath };

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");

/** Copies a stored object to a temp file (hashing it), so its real size is known before its tar header is written. */
async function stage(
  blobs: BlobStore,
  key: string,
  dir: string,
  n: number,
): Promise<{ path: string; size: number } | null> {
  const stream = await blobs.getStream(key);
  if (!stream) return null;
  const path = join(dir, `blob-${n}`);
  const counter = new HashingStream();
  await pipeline(stream, counter, createWriteStream(path));
  return { path, size: counter.bytes };
}

export interface BundleSource {
  material: EvidenceMaterial;
  blobs: BlobStore;
  /** The blob key of an attempt's output file. */
  fileKey: (nodeId: string, attempt: number, path: string) => string;
  exportedAt: string;
}

/**
 * Writes a run's evidence bundle (tar + gzip) to `dest`: manifest, raw records and every file and log as stored.
 * Stored bytes go in as they are, tampered or not: the bundle is what verify judges.
 */
export async function writeBundle(src: BundleSource, dest: string): Promise<{ size: number; root: string | null }> {
  const { root } = await streamBundle(src, (gzip) => pipeline(gzip, createWriteStream(dest, { mode: 0o600 })));
  return { size: (await stat(dest)).size, root };
}

/**
 * Writes a run's evidence bundle into `consume`, which gets the gzip stream and resolves once it has taken it all
 * (a file, or a multipart upload to S3): nothing but one stored object at a time is staged on local disk.
 */
export async function streamBundle(
  src: BundleSource,
  consume: (gzip: Readable) => Promise<unknown>,
): Promise<{ root: string | null }> {
  const { material: m } = src;
  if (!m.run) throw new Error("the run record is missing");
  const at = manifestAtSeal(m.run, m.tasks, m.audit);
  const root = at.sealedRoot ?? manifestRoot(at.manifest);
  const gzip = createGzip({ level: 6 });
  const done = consume(gzip);
  const tar = new TarWriter(gzip);
  const scratch = await mkdtemp(join(tmpdir(), "stepwise-bundle-"));
  try {
    await tar.add(
      "bundle.json",
      json({
        format: BUNDLE_FORMAT,
        runId: m.run.runId,
        orgId: m.run.orgId,
        workflow: m.run.workflow,
        root,
        sealed: at.sealed,
        exportedAt: src.exportedAt,
      }),
    );
    await tar.add("README.txt", Buffer.from(README, "utf8"));
    await tar.add("manifest.json", json(at.manifest));
    await tar.add("records/run.json", json(m.run));
    await tar.add("records/tasks.json", json(m.tasks));
    await tar.add("records/audit.json", json(m.audit));
    await tar.add("records/workflow.json", json(m.workflow));
    let n = 0;
    for (const t of taskRecordsOf(m.tasks)) {
      for (const a of t.attempts ?? []) {
        for (const f of a.outputs ?? []) {
          const staged = await stage(src.blobs, src.fileKey(t.nodeId, a.attempt, f.path), scratch, n++);
          if (!staged) continue; // missing content: verify reports it
          await tar.add(bundleFilePath(t.nodeId, a.attempt, f.path), createReadStream(staged.path), staged.size);
          await rm(staged.path, { force: true });
        }
        if (a.logInline !== undefined) {
          await tar.add(bundleLogPath(t.nodeId, a.attempt), Buffer.from(a.logInline, "utf8"));
        } else if (a.logKey) {
          const staged = await stage(src.blobs, a.logKey, scratch, n++);
          if (!staged) continue;
          await tar.add(bundleLogPath(t.nodeId, a.attempt), createReadStream(staged.path), staged.size);
          await rm(staged.path, { force: true });
        }
      }
    }
    await tar.finish();
    gzip.end();
    await done;
  } catch (err) {
    gzip.destroy();
    await done.catch(() => {});
    throw err;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { root };
}

export interface BundleReport extends VerifyReport {
  bundle: { format: string | null; runId: string | null; root: string | null; exportedAt: string | null };
}

/**
 * Verifies a bundle with no server: recomputes everything from its records and bytes, exactly as the API's verify
 * does from storage, and checks the root it carries and its manifest against the recomputed ones.
 */
export async function verifyBundle(path: string): Promise<BundleReport> {
  const docs = new Map<string, unknown>();
  const digests = new Map<string, Digest>();
  const bundleProblems: string[] = [];
  const source = createReadStream(path).pipe(createGunzip());
  for await (const entry of readTar(source)) {
    // A second entry of the same name would be what an unpacker keeps, unseen by a check of the first.
    if (docs.has(entry.name) || digests.has(entry.name))
      bundleProblems.push(`${entry.name}: appears more than once in the bundle`);
    if (entry.name.startsWith("files/") || entry.name.startsWith("logs/")) {
      const hasher = new HashingStream();
      await pipeline(entry.body, hasher, async (chunks: AsyncIterable<Buffer>) => {
        for await (const _ of chunks) {
          // hash only
        }
      });
      digests.set(entry.name, hasher.digest());
    } else if (entry.name.endsWith(".json")) {
      if (entry.size > MAX_JSON_ENTRY_BYTES) throw new Error(`${entry.name} is too large to be a bundle record`);
      const parts: Buffer[] = [];
      for await (const chunk of entry.body) parts.push(chunk);
      try {
        docs.set(entry.name, JSON.parse(Buffer.concat(parts).toString("utf8")));
      } catch {
        throw new Error(`${entry.name} in the bundle is not valid JSON`);
      }
    }
  }
  const info = (docs.get("bundle.json") ?? {}) as {
    format?: string;
    runId?: string;
    root?: string;
    exportedAt?: string;
  };
  const material: EvidenceMaterial = {
    run: (docs.get("records/run.json") as EvidenceMaterial["run"]) ?? null,
    tasks: (docs.get("records/tasks.json") as EvidenceMaterial["tasks"]) ?? [],
    audit: (docs.get("records/audit.json") as EvidenceMaterial["audit"]) ?? [],
    workflow: (docs.get("records/workflow.json") as EvidenceMaterial["workflow"]) ?? null,
  };
  const content: ContentSource = {
    file: async (nodeId, attempt, p) => digests.get(bundleFilePath(nodeId, attempt, p)) ?? null,
    log: async (nodeId, attempt) => digests.get(bundleLogPath(nodeId, attempt)) ?? null,
    // A short log is also kept in the task record: the log file beside it is checked too, not trusted.
    inlineLog: async (nodeId, attempt) => digests.get(bundleLogPath(nodeId, attempt)) ?? null,
  };
  const report = await verifyMaterial(material, content);
  const problems = [...bundleProblems, ...report.problems.map(withBundleEntry)];
  if (info.format !== BUNDLE_FORMAT)
    problems.unshift(`bundle.json: this is not a Stepwise evidence bundle (${BUNDLE_FORMAT})`);
  if (info.root && report.root && info.root !== report.root && info.root !== report.sealedRoot)
    problems.push(`bundle.json: the bundle says its root is ${info.root}, but its records give ${report.root}`);
  const shipped = docs.get("manifest.json");
  if (shipped !== undefined && report.root && manifestRoot(shipped as never) !== report.root)
    problems.push("manifest.json: it is not the manifest the bundle's records give");
  problems.push(...unexpectedEntries(material, digests));
  return {
    ...report,
    valid: problems.length === 0,
    problems,
    bundle: {
      format: info.format ?? null,
      runId: info.runId ?? null,
      root: info.root ?? null,
      exportedAt: info.exportedAt ?? null,
    },
  };
}

/** files/ and logs/ entries no record accounts for: bytes smuggled into a bundle are reported, not ignored. */
function unexpectedEntries(material: EvidenceMaterial, digests: Map<string, Digest>): string[] {
  const expected = new Set<string>();
  // Records may have been edited into any shape: verifyMaterial reports that; here only well-formed parts count.
  for (const t of Array.isArray(material.tasks) ? taskRecordsOf(material.tasks) : []) {
    for (const a of Array.isArray(t?.attempts) ? t.attempts : []) {
      for (const f of Array.isArray(a?.outputs) ? a.outputs : [])
        expected.add(bundleFilePath(t.nodeId, a.attempt, f.path));
      expected.add(bundleLogPath(t.nodeId, a.attempt));
    }
  }
  return [...digests.keys()]
    .filter((name) => !expected.has(name))
    .map((name) => `${name}: no record of the run accounts for this file`);
}
