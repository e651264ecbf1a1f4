import { GENESIS_HASH, verifyChain } from "../domain/audit.ts";
import { hashJson, sha256 } from "../domain/hash.ts";
import { isTerminalRun, type RunRecord, type RunStatus } from "../domain/records.ts";
import type { Digest } from "./hashing.ts";
import { buildManifest, type Manifest, manifestRoot } from "./manifest.ts";
import {
  eventVersions,
  isRunRecord,
  type StoredEvent,
  storedEvents,
  targetKey,
  taskRecordsOf,
  versionKey,
} from "./stored-records.ts";

type Item = Record<string, unknown>;

/** Everything stored about a run, as raw as the store holds it (table keys removed, `seq`/`auditHash` kept). */
export interface EvidenceMaterial {
  run: Item | null;
  tasks: Item[];
  /** Audit events in order, each with its `target`, its `delta` to that record and the `snapshotHash` it gives. */
  audit: Item[];
  workflow: { name: string; version: number; definitionHash: string; definition: unknown } | null;
}

/** Where verification reads the stored bytes of files and logs (S3, or the entries of a bundle). */
export interface ContentSource {
  file(nodeId: string, attempt: number, path: string): Promise<Digest | null>;
  log(nodeId: string, attempt: number, logKey: string): Promise<Digest | null>;
  /**
   * The stored bytes of a log the record keeps inline, where they exist apart from the record (a bundle's log
   * file): each copy is checked, so neither can be edited unseen. Storage has no such copy and leaves this out.
   */
  inlineLog?(nodeId: string, attempt: number): Promise<Digest | null>;
}

export interface VerifyReport {
  runId: string | null;
  valid: boolean;
  /** The root recomputed from the stored records (at the seal when the run is sealed). */
  root: string | null;
  /** The root stored on the run when it ended; null while the run is not sealed. */
  sealedRoot: string | null;
  sealed: boolean;
  problems: string[];
  checked: { auditEvents: number; tasks: number; files: number; logs: number };
  /** Audit events after the seal (late evidence of a cancelled task); covered by the chain, not by the root. */
  eventsAfterSeal: number;
  /** A restarted run: the runs whose evidence it carried over, verified with it (their problems are prefixed). */
  restartedFrom?: string[];
}

const recordOf = (item: Item): Item => {
  const { seq: _s, auditHash: _h, ...rest } = item;
  return rest;
};
const withoutRoot = (item: Item): Item => {
  const { root: _r, ...rest } = item;
  return rest;
};
const label = (key: string) => (key === "run" ? "the run record" : `the record of task '${key.slice(5)}'`);

/**
 * Verifies a run from its stored material: the audit chain, every stored record against the snapshot of the last
 * event that changed it, the definition hash, the manifest root against the sealed one, and every file and log
 * against its recorded hash. Each problem names what broke.
 */
export async function verifyMaterial(m: EvidenceMaterial, content: ContentSource): Promise<VerifyReport> {
  const problems: string[] = [];
  const { events, problems: malformed } = storedEvents(m.audit);
  problems.push(...malformed, ...verifyChain(events));

  // Every record version rebuilt from the deltas must be the one its event hashed; the last one per record must be
  // what is stored.
  const lastByKey = new Map<string, StoredEvent>();
  const versions = eventVersions(events);
  events.forEach((ev, i) => {
    const version = versions[i] ?? null;
    if (hashJson(version) !== ev.snapshotHash) {
      problems.push(`audit event ${ev.seq}: the record version its delta gives does not match its snapshotHash`);
      return;
    }
    const key = versionKey(version);
    if (!key) {
      problems.push(`audit event ${ev.seq}: the version it produced is neither a run nor a task record`);
      return;
    }
    if (ev.target !== undefined && targetKey(ev.target) !== key)
      problems.push(`audit event ${ev.seq}: its target does not match the record its version is of`);
    lastByKey.set(key, ev);
  });

  // While a run goes on, the engine may not have written a task record's newest versions yet (they wait for the
  // end of its call): a record at an earlier event of its own, hashed as that event says, or none yet, is fine.
  const runEvent = lastByKey.get("run");
  const runStatus = runEvent ? (versions[events.indexOf(runEvent)] as { status?: unknown } | null)?.status : null;
  const ongoing = typeof runStatus === "string" && !isTerminalRun(runStatus as RunStatus);
  const keyAt = new Map<number, { key: string; ev: StoredEvent }>();
  events.forEach((ev, i) => {
    const key = versionKey(versions[i] ?? null);
    if (key) keyAt.set(Number(ev.seq), { key, ev });
  });
  const earlierOwn = (key: string, item: Item): boolean => {
    const at = keyAt.get(Number(item.seq));
    return !!at && at.key === key && item.auditHash === at.ev.hash && hashJson(recordOf(item)) === at.ev.snapshotHash;
  };

  const stored = new Map<string, Item>();
  if (m.run) stored.set("run", m.run);
  for (const t of m.tasks) stored.set(`task:${String(t.nodeId)}`, t);
  for (const [key, item] of stored) {
    const ev = lastByKey.get(key);
    if (!ev) {
      problems.push(`${label(key)} has no audit event that produced it`);
      continue;
    }
    if (ongoing && key !== "run" && Number(item.seq) < Number(ev.seq) && earlierOwn(key, item)) continue;
    if (hashJson(recordOf(item)) !== ev.snapshotHash)
      problems.push(`${label(key)} differs from the snapshot of audit event ${ev.seq}, the last change to it`);
    else if (Number(item.seq) !== Number(ev.seq))
      problems.push(`${label(key)} is at audit event ${item.seq} but its last change is event ${ev.seq}`);
    else if (item.auditHash !== ev.hash)
      problems.push(`${label(key)} names an audit hash that is not event ${ev.seq}'s`);
  }
  for (const key of lastByKey.keys())
    if (!stored.has(key) && !(ongoing && key !== "run"))
      problems.push(`${label(key)} is missing (audit event ${lastByKey.get(key)?.seq} wrote it)`);

  if (!m.run) {
    problems.push("the run record is missing");
    return report(null, problems, null, null, false, events.length, 0, 0, 0, 0);
  }
  const runRecord = recordOf(m.run);
  if (!isRunRecord(runRecord)) {
    problems.push("the run record is not a run record");
    return report(null, problems, null, null, false, events.length, 0, 0, 0, 0);
  }

  if (!m.workflow) {
    problems.push(`the workflow definition ${runRecord.workflow?.definitionHash} of the run is missing`);
  } else if (hashJson(m.workflow.definition) !== runRecord.workflow.definitionHash) {
    problems.push(
      `the stored workflow definition hashes to ${hashJson(m.workflow.definition)}, not the run's definitionHash ${runRecord.workflow.definitionHash}`,
    );
  }

  const at = manifestAtSeal(m.run, m.tasks, m.audit);
  const { manifest, sealedRoot } = at;
  if (at.sealed && runRecord.root !== sealedRoot)
    problems.push(`the run record's root ${runRecord.root ?? "(none)"} is not the sealed root ${sealedRoot}`);
  if (!at.sealed && runRecord.root) problems.push("the run record carries a root but no audit event sealed it");
  const root = manifestRoot(manifest);
  if (sealedRoot && root !== sealedRoot)
    problems.push(
      `the evidence manifest recomputed from the stored records hashes to ${root}, not the sealed root ${sealedRoot}`,
    );

  // The bytes: every file version and every log must still hash to what the records say.
  let files = 0;
  let logs = 0;
  const produced = new Set(manifest.files.map((f) => `${f.path}\n${f.sha256}`));
  for (const task of manifest.tasks) {
    for (const a of task.attempts ?? []) {
      for (const f of a.outputs ?? []) {
        files++;
        const got = await content.file(task.nodeId, a.attempt, f.path);
        const who = `file '${f.path}' (written by '${task.nodeId}', attempt ${a.attempt})`;
        if (!got) problems.push(`${who} is missing from storage`);
        else if (got.sha256 !== f.sha256 || got.size !== f.size)
          problems.push(
            `${who}: the stored bytes hash to ${got.sha256} (${got.size} bytes) but the record says ${f.sha256} (${f.size} bytes)`,
          );
      }
      for (const f of a.inputs ?? [])
        if (!produced.has(`${f.path}\n${f.sha256}`))
          problems.push(
            `task '${task.nodeId}' attempt ${a.attempt} read '${f.path}' (${f.sha256}), which no task wrote`,
          );
      if (a.logInline !== undefined && a.logSha256) {
        logs++;
        const got = sha256(Buffer.from(a.logInline, "utf8"));
        if (got !== a.logSha256)
          problems.push(
            `the log of task '${task.nodeId}' attempt ${a.attempt} kept in its record hashes to ${got} but the record says ${a.logSha256}`,
          );
        if (content.inlineLog) {
          const file = await content.inlineLog(task.nodeId, a.attempt);
          const who = `the log of task '${task.nodeId}' attempt ${a.attempt}`;
          if (!file) problems.push(`${who} is missing from storage`);
          else if (file.sha256 !== a.logSha256)
            problems.push(`${who}: the stored bytes hash to ${file.sha256} but the record says ${a.logSha256}`);
        }
      } else if (a.logKey && a.logSha256) {
        logs++;
        const got = await content.log(task.nodeId, a.attempt, a.logKey);
        const who = `the log of task '${task.nodeId}' attempt ${a.attempt}`;
        if (!got) problems.push(`${who} is missing from storage`);
        else if (got.sha256 !== a.logSha256)
          problems.push(`${who}: the stored bytes hash to ${got.sha256} but the record says ${a.logSha256}`);
      }
    }
  }
  return report(
    runRecord.runId,
    problems,
    root,
    sealedRoot,
    at.sealed,
    events.length,
    manifest.tasks.length,
    files,
    logs,
    at.eventsAfterSeal,
  );
}

/**
 * The manifest the run's root covers, rebuilt from stored material: the records as they stood when the run was
 * sealed (a later event can only be late evidence of a cancelled task), or as they are now when it is not sealed.
 */
export function manifestAtSeal(
  run: Item,
  taskItems: Item[],
  audit: unknown[],
): { manifest: Manifest; sealed: boolean; sealedRoot: string | null; eventsAfterSeal: number } {
  const { events } = storedEvents(audit);
  const versions = eventVersions(events);
  const stored = new Map<string, Item>([["run", run]]);
  for (const t of taskItems) stored.set(`task:${String(t.nodeId)}`, t);
  // The seal is the run's terminal event: the first whose run version carries a root.
  const sealIdx = versions.findIndex((v) => versionKey(v) === "run" && typeof v?.root === "string");
  const sealEvent = events[sealIdx];
  const sealVersion = versions[sealIdx];
  if (!sealEvent || !sealVersion) {
    const last = events[events.length - 1];
    const head = last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
    return {
      manifest: buildManifest(runRecordOf(recordOf(run)), taskRecordsOf(taskItems.map(recordOf)), head),
      sealed: false,
      sealedRoot: null,
      eventsAfterSeal: 0,
    };
  }
  const sealSeq = sealEvent.seq;
  const prev = events[sealIdx - 1];
  const head = prev ? { seq: prev.seq, hash: prev.hash } : { seq: 0, hash: GENESIS_HASH };
  const atSeal = (key: string): Item | null => {
    const item = stored.get(key);
    // An ended run never changes, so the stored run item is the one the terminal event wrote.
    if (item && (Number(item.seq) < sealSeq || (key === "run" && Number(item.seq) === sealSeq))) return recordOf(item);
    if (key === "run") return sealVersion;
    let found: Item | null = null;
    events.forEach((ev, i) => {
      if (ev.seq < sealSeq && versionKey(versions[i]) === key) found = versions[i] ?? null;
    });
    return found;
  };
  const keys = new Set(stored.keys());
  for (const v of versions) {
    const k = versionKey(v);
    if (k) keys.add(k);
  }
  const tasks = taskRecordsOf([...keys].filter((k) => k !== "run").map(atSeal));
  const runAtSeal = runRecordOf(withoutRoot(atSeal("run") ?? recordOf(run)));
  const root = sealVersion.root;
  return {
    manifest: buildManifest(runAtSeal, tasks, head),
    sealed: true,
    sealedRoot: typeof root === "string" ? root : null,
    eventsAfterSeal: events.length - 1 - sealIdx,
  };
}

/** The run record for a manifest; one edited out of shape still gives a manifest (whose root then differs). */
function runRecordOf(item: Item): RunRecord {
  if (isRunRecord(item)) return item;
  throw new Error("the run record is not a run record");
}

function report(
  runId: string | null,
  problems: string[],
  root: string | null,
  sealedRoot: string | null,
  sealed: boolean,
  auditEvents: number,
  tasks: number,
  files: number,
  logs: number,
  eventsAfterSeal: number,
): VerifyReport {
  return {
    runId,
    valid: problems.length === 0,
    root,
    sealedRoot,
    sealed,
    problems,
    checked: { auditEvents, tasks, files, logs },
    eventsAfterSeal,
  };
}
