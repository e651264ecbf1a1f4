import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
} from "@aws-sdk/lib-dynamodb";
import { auditEventHash, GENESIS_HASH } from "../domain/audit.ts";
import { hashJson } from "../domain/hash.ts";
import type { AuditEvent, Page, RunRecord, RunStatus, TaskRecord } from "../domain/records.ts";
import { listSortKey } from "../domain/sort-keys.ts";
import type { WorkflowDefinition } from "../domain/workflow.ts";
import { ConflictError, StaleStateError } from "../errors.ts";
import { openCursor, sealCursor } from "../kernel/signed-cursor.ts";
import type {
  Change,
  ChangeTarget,
  KeyRecord,
  PageRequest,
  RunFilter,
  RunState,
  RunStore,
  StoredRun,
  WorkflowVersion,
} from "../ports/run-store.ts";
import { TTL_ATTRIBUTE } from "./dynamo-table.ts";

type Item = Record<string, unknown>;

const pad = (n: number): string => String(n).padStart(10, "0");
const runPk = (orgId: string, runId: string) => `ORG#${orgId}#RUN#${runId}`;
const wfPk = (orgId: string, name: string) => `ORG#${orgId}#WF#${name}`;
const auditSk = (seq: number) => `AUDIT#${pad(seq)}`;
const targetSk = (t: ChangeTarget) => (t.kind === "run" ? "RUN" : `TASK#${t.nodeId}`);
const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

const isConditionFailure = (err: unknown): boolean =>
  err instanceof ConditionalCheckFailedException ||
  (err as { name?: string })?.name === "ConditionalCheckFailedException";

/** The list a cursor belongs to: table, index, org-bearing key condition and filters (see shared/kernel/signed-cursor.ts). */
const cursorScope = (input: QueryCommandInput): string =>
  JSON.stringify([
    input.TableName,
    input.IndexName ?? null,
    input.KeyConditionExpression,
    input.FilterExpression ?? null,
    input.ExpressionAttributeValues ?? null,
  ]);

function strip<T>(item: Item, extra: string[] = []): T {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) {
    if (k === "pk" || k === "sk" || k.startsWith("gsi") || k === TTL_ATTRIBUTE || extra.includes(k)) continue;
    out[k] = v;
  }
  return out as T;
}

interface StoredEvent extends AuditEvent {
  target: ChangeTarget;
  snapshot: Item;
  snapshotHash: string;
}

/** The RunStore on one DynamoDB table (DynamoDB in the cloud, dynalite embedded). */
export class DynamoRunStore implements RunStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Signs list cursors (cursorSigningKey). */
    private readonly cursorKey: Buffer,
  ) {}

  // ---- orgs and keys -------------------------------------------------------------------------

  async createOrg(orgId: string, at: string): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `ORG#${orgId}`, sk: "ORG", orgId, createdAt: at },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new ConflictError(`org '${orgId}' already exists`);
      throw err;
    }
  }

  async orgExists(orgId: string): Promise<boolean> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `ORG#${orgId}`, sk: "ORG" } }));
    return Boolean(res.Item);
  }

  async putKey(key: KeyRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `KEY#${key.keyHash}`, sk: "KEY", gsi1pk: `ORG#${key.orgId}#KEYS`, gsi1sk: key.keyId, ...key },
      }),
    );
  }

  async findKeyByHash(keyHash: string): Promise<KeyRecord | null> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `KEY#${keyHash}`, sk: "KEY" } }));
    return res.Item ? strip<KeyRecord>(res.Item) : null;
  }

  async listKeys(orgId: string, page: PageRequest): Promise<Page<KeyRecord>> {
    const res = await this.queryPage(
      {
        TableName: this.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#KEYS` },
        ScanIndexForward: false,
      },
      page,
    );
    return { items: res.items.map((i) => strip<KeyRecord>(i)), nextCursor: res.nextCursor };
  }

  async deleteKey(orgId: string, keyId: string): Promise<boolean> {
    const items = await this.queryAll({
      TableName: this.table,
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :p AND gsi1sk = :k",
      ExpressionAttributeValues: { ":p": `ORG#${orgId}#KEYS`, ":k": keyId },
    });
    const found = items.map((i) => strip<KeyRecord>(i))[0];
    if (!found) return false;
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: `KEY#${found.keyHash}`, sk: "KEY" } }));
    return true;
  }

  // ---- workflows -----------------------------------------------------------------------------

  async putWorkflowVersion(
    orgId: string,
    def: WorkflowDefinition,
    definitionHash: string,
    at: string,
    by: string,
    opts: { forceNew?: boolean } = {},
  ): Promise<{ version: WorkflowVersion; created: boolean }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const latest = await this.getWorkflow(orgId, def.name);
      if (latest && latest.definitionHash === definitionHash && !opts.forceNew)
        return { version: latest, created: false };
      const version: WorkflowVersion = {
        orgId,
        name: def.name,
        version: (latest?.version ?? 0) + 1,
        definitionHash,
        definition: def,
        createdAt: at,
        createdBy: by,
      };
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: wfPk(orgId, def.name), sk: `V#${pad(version.version)}`, ...version },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (err) {
        if (isConditionFailure(err)) continue; // a concurrent PUT took this version number
        throw err;
      }
      await this.db
        .send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: wfPk(orgId, def.name),
              sk: "HEAD",
              gsi1pk: `ORG#${orgId}#WFS`,
              // Lists are newest first: the workflow changed last comes first.
              gsi1sk: listSortKey(at, def.name),
              name: def.name,
              version: version.version,
              definitionHash,
              // Lists show it without reading each definition.
              description: def.description ?? null,
              createdAt: at,
            },
            ConditionExpression: "attribute_not_exists(pk) OR version < :v",
            ExpressionAttributeValues: { ":v": version.version },
          }),
        )
        .catch((err) => {
          if (!isConditionFailure(err)) throw err;
        });
      await this.db
        .send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: `ORG#${orgId}#WFHASH#${definitionHash}`,
              sk: "WFHASH",
              name: def.name,
              version: version.version,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        )
        .catch((err) => {
          if (!isConditionFailure(err)) throw err;
        });
      return { version, created: true };
    }
    throw new ConflictError(`workflow '${def.name}' is being changed concurrently; try again`);
  }

  async getWorkflow(orgId: string, name: string, version?: number): Promise<WorkflowVersion | null> {
    if (version !== undefined) {
      const res = await this.db.send(
        new GetCommand({ TableName: this.table, Key: { pk: wfPk(orgId, name), sk: `V#${pad(version)}` } }),
      );
      return res.Item ? strip<WorkflowVersion>(res.Item) : null;
    }
    const res = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :p AND begins_with(sk, :v)",
        ExpressionAttributeValues: { ":p": wfPk(orgId, name), ":v": "V#" },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = res.Items?.[0];
    return item ? strip<WorkflowVersion>(item) : null;
  }

  async getWorkflowByHash(orgId: string, definitionHash: string): Promise<WorkflowVersion | null> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `ORG#${orgId}#WFHASH#${definitionHash}`, sk: "WFHASH" } }),
    );
    if (!res.Item) return null;
    return this.getWorkflow(orgId, String(res.Item.name), Number(res.Item.version));
  }

  async listWorkflows(orgId: string, page: PageRequest): Promise<Page<WorkflowVersion>> {
    const res = await this.queryPage(
      {
        TableName: this.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#WFS` },
        ScanIndexForward: false,
      },
      page,
    );
    return { items: res.items.map((i) => ({ ...strip<WorkflowVersion>(i), orgId })), nextCursor: res.nextCursor };
  }

  async listWorkflowVersions(orgId: string, name: string, page: PageRequest): Promise<Page<WorkflowVersion>> {
    const res = await this.queryPage(
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :p AND begins_with(sk, :v)",
        ExpressionAttributeValues: { ":p": wfPk(orgId, name), ":v": "V#" },
        ScanIndexForward: false,
      },
      page,
    );
    return { items: res.items.map((i) => strip<WorkflowVersion>(i)), nextCursor: res.nextCursor };
  }

  // ---- idempotency ---------------------------------------------------------------------------

  async claimIdempotencyKey(
    orgId: string,
    scope: string,
    key: string,
    runId: string,
    nowMs: number,
  ): Promise<string | null> {
    const pk = `ORG#${orgId}#IDEM#${scope}#${key}`;
    const now = Math.floor(nowMs / 1000);
    // A claim given back between our put and our read leaves nothing to read: claim again.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk, sk: "IDEM", runId, claimedAt: nowMs, [TTL_ATTRIBUTE]: now + IDEMPOTENCY_TTL_SECONDS },
            // dynalite has no TTL: an expired claim is overwritten here instead.
            ConditionExpression: "attribute_not_exists(pk) OR #ttl < :now",
            ExpressionAttributeNames: { "#ttl": TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ":now": now },
          }),
        );
        return null;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const res = await this.db.send(
          new GetCommand({ TableName: this.table, Key: { pk, sk: "IDEM" }, ConsistentRead: true }),
        );
        if (res.Item) return String(res.Item.runId);
        if (attempt >= 2)
          throw new ConflictError("the Idempotency-Key is being claimed and given back concurrently; retry");
      }
    }
  }

  async takeOverIdempotencyKey(
    orgId: string,
    scope: string,
    key: string,
    fromId: string,
    toId: string,
    nowMs: number,
    staleBeforeMs: number,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: `ORG#${orgId}#IDEM#${scope}#${key}`,
            sk: "IDEM",
            runId: toId,
            claimedAt: nowMs,
            [TTL_ATTRIBUTE]: Math.floor(nowMs / 1000) + IDEMPOTENCY_TTL_SECONDS,
          },
          // Claims from before claimedAt was recorded count as stale.
          ConditionExpression: "runId = :from AND (attribute_not_exists(claimedAt) OR claimedAt < :stale)",
          ExpressionAttributeValues: { ":from": fromId, ":stale": staleBeforeMs },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async releaseIdempotencyKey(orgId: string, scope: string, key: string, runId: string): Promise<void> {
    await this.db
      .send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `ORG#${orgId}#IDEM#${scope}#${key}`, sk: "IDEM" },
          ConditionExpression: "runId = :r",
          ExpressionAttributeValues: { ":r": runId },
        }),
      )
      .catch((err) => {
        if (!isConditionFailure(err)) throw err;
      });
  }

  // ---- runs and the audit chain --------------------------------------------------------------

  private runIndexKeys(run: RunRecord): Item {
    const keys: Item = {
      gsi1pk: `ORG#${run.orgId}#RUNS`,
      gsi1sk: run.runId,
      gsi2pk: `ORG#${run.orgId}#WF#${run.workflow.name}#RUNS`,
      gsi2sk: run.runId,
    };
    if (run.jobRunId) {
      keys.gsi3pk = `ORG#${run.orgId}#JR#${run.jobRunId}#RUNS`;
      keys.gsi3sk = run.runId;
    }
    return keys;
  }

  private itemFor(
    state: RunState,
    target: ChangeTarget,
    next: RunRecord | TaskRecord,
    seq: number,
    hash: string,
  ): Item {
    const pk = runPk(state.run.orgId, state.run.runId);
    const base: Item = { pk, sk: targetSk(target), ...next, seq, auditHash: hash };
    if (target.kind === "run") Object.assign(base, this.runIndexKeys(next as RunRecord));
    const status = (next as TaskRecord).status;
    if (target.kind === "task" && (status === "awaiting_approval" || status === "awaiting_input")) {
      // A sparse index of the org's waiting human steps: the approvals inbox.
      base.gsi3pk = `ORG#${state.run.orgId}#HUMAN`;
      base.gsi3sk = `${(next as TaskRecord).waitingSince ?? ""}#${state.run.runId}#${target.nodeId}`;
    }
    return base;
  }

  async createRun(run: RunRecord, actor: string): Promise<RunState> {
    const state: RunState = { run, tasks: new Map(), head: { seq: 0, hash: GENESIS_HASH } };
    await this.commit(
      state,
      {
        target: { kind: "run" },
        event: { type: "run.created", from: null, to: run.status, actor, detail: { trigger: run.trigger } },
        next: run,
      },
      run.createdAt,
    );
    return state;
  }

  async loadRun(orgId: string, runId: string): Promise<RunState | null> {
    const pk = runPk(orgId, runId);
    const items = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: "pk = :p AND sk >= :s",
      ExpressionAttributeValues: { ":p": pk, ":s": "RUN" },
      ConsistentRead: true,
    });
    let runItem: Item | undefined;
    const taskItems: Item[] = [];
    for (const item of items) {
      if (item.sk === "RUN") runItem = item;
      else if (String(item.sk).startsWith("TASK#")) taskItems.push(item);
    }
    // The run item is written right after its first audit event; a crash between leaves only the event.
    const maxSeq = Math.max(0, ...[runItem, ...taskItems].filter(Boolean).map((i) => Number((i as Item).seq)));
    const later = (await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
      ExpressionAttributeValues: { ":p": pk, ":a": auditSk(maxSeq + 1), ":b": auditSk(9_999_999_999) },
      ConsistentRead: true,
    })) as unknown as StoredEvent[];
    if (!runItem && later.length === 0) return null;

    const state: RunState = {
      run: runItem ? strip<RunRecord>(runItem, ["seq", "auditHash"]) : (undefined as unknown as RunRecord),
      tasks: new Map(taskItems.map((t) => [String(t.nodeId), strip<TaskRecord>(t, ["seq", "auditHash"])])),
      head: { seq: 0, hash: GENESIS_HASH },
    };
    const withHead = [runItem, ...taskItems].filter(Boolean) as Item[];
    const top = withHead.reduce<Item | undefined>((a, b) => (!a || Number(b.seq) > Number(a.seq) ? b : a), undefined);
    if (top) state.head = { seq: Number(top.seq), hash: String(top.auditHash) };
    const pending: StoredEvent[] = [];
    for (const ev of later) {
      pending.push(ev);
      this.applyInMemory(state, ev.target, ev.snapshot as unknown as RunRecord | TaskRecord);
      state.head = { seq: ev.seq, hash: ev.hash };
    }
    if (!state.run) return null;
    if (pending.length) unapplied.set(state, pending);
    return state;
  }

  private applyInMemory(state: RunState, target: ChangeTarget, next: RunRecord | TaskRecord): void {
    if (target.kind === "run") state.run = next as RunRecord;
    else state.tasks.set(target.nodeId, next as TaskRecord);
  }

  async commit(state: RunState, change: Change, at: string): Promise<void> {
    const seq = state.head.seq + 1;
    const snapshot = JSON.parse(JSON.stringify(change.next)) as Item;
    const snapshotHash = hashJson(snapshot);
    const body = {
      seq,
      at,
      type: change.event.type,
      from: change.event.from,
      to: change.event.to,
      actor: change.event.actor,
      detail: change.event.detail,
      prevHash: state.head.hash,
      snapshotHash,
    };
    const hash = auditEventHash(body);
    const pk = runPk(state.run.orgId, state.run.runId);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk, sk: auditSk(seq), ...body, hash, target: change.target, snapshot },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new StaleStateError(`audit seq ${seq} of ${state.run.runId} was taken`);
      throw err;
    }
    // Events this writer saw but nobody applied yet (a crashed or slower writer) go first, in order.
    for (const ev of unapplied.get(state) ?? []) await this.applyItem(state, ev.target, ev.snapshot, ev.seq, ev.hash);
    unapplied.delete(state);
    await this.applyItem(state, change.target, snapshot, seq, hash);
    this.applyInMemory(state, change.target, change.next);
    state.head = { seq, hash };
  }

  private async applyItem(
    state: RunState,
    target: ChangeTarget,
    snapshot: Item,
    seq: number,
    hash: string,
  ): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: this.itemFor(state, target, snapshot as unknown as RunRecord, seq, hash),
          ConditionExpression: "attribute_not_exists(pk) OR seq < :seq",
          ExpressionAttributeValues: { ":seq": seq },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // a newer version is already there
    }
  }

  async getRunStatus(orgId: string, runId: string): Promise<RunStatus | null> {
    const res = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: runPk(orgId, runId), sk: "RUN" },
        ProjectionExpression: "#s",
        ExpressionAttributeNames: { "#s": "status" },
        ConsistentRead: true,
      }),
    );
    return (res.Item?.status as RunStatus | undefined) ?? null;
  }

  async listRuns(orgId: string, filter: RunFilter, page: PageRequest): Promise<Page<RunRecord>> {
    let input: QueryCommandInput;
    if (filter.jobRunId) {
      input = {
        TableName: this.table,
        IndexName: "gsi3",
        KeyConditionExpression: "gsi3pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#JR#${filter.jobRunId}#RUNS` },
      };
    } else if (filter.workflow) {
      input = {
        TableName: this.table,
        IndexName: "gsi2",
        KeyConditionExpression: "gsi2pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#WF#${filter.workflow}#RUNS` },
      };
    } else {
      input = {
        TableName: this.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#RUNS` },
      };
    }
    const filters: string[] = [];
    input.ExpressionAttributeNames = {};
    if (filter.status) {
      filters.push("#status = :status");
      input.ExpressionAttributeNames["#status"] = "status";
      (input.ExpressionAttributeValues as Item)[":status"] = filter.status;
    }
    if (filter.workflow && filter.jobRunId) {
      filters.push("#wf.#name = :wf");
      input.ExpressionAttributeNames["#wf"] = "workflow";
      input.ExpressionAttributeNames["#name"] = "name";
      (input.ExpressionAttributeValues as Item)[":wf"] = filter.workflow;
    }
    if (filters.length) input.FilterExpression = filters.join(" AND ");
    else delete input.ExpressionAttributeNames;
    input.ScanIndexForward = false;
    const res = await this.queryPage(input, page);
    return { items: res.items.map((i) => strip<RunRecord>(i, ["seq", "auditHash"])), nextCursor: res.nextCursor };
  }

  async listAudit(orgId: string, runId: string): Promise<AuditEvent[]> {
    const items = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: "pk = :p AND begins_with(sk, :a)",
      ExpressionAttributeValues: { ":p": runPk(orgId, runId), ":a": "AUDIT#" },
      ConsistentRead: true,
    });
    return items.map((i) => strip<AuditEvent>(i, ["target", "snapshot"]));
  }

  /** Every stored item of a run, for verification. */
  async rawRunItems(orgId: string, runId: string): Promise<Item[]> {
    return this.queryAll({
      TableName: this.table,
      KeyConditionExpression: "pk = :p",
      ExpressionAttributeValues: { ":p": runPk(orgId, runId) },
      ConsistentRead: true,
    });
  }

  async storedRun(orgId: string, runId: string): Promise<StoredRun> {
    // The attributes as written, less the table's own (keys, index keys, TTL).
    const stripKeys = (item: Item): Item => {
      const out: Item = {};
      for (const [k, v] of Object.entries(item))
        if (k !== "pk" && k !== "sk" && k !== TTL_ATTRIBUTE && !k.startsWith("gsi")) out[k] = v;
      return out;
    };
    const stored: StoredRun = { run: null, tasks: [], audit: [] };
    for (const item of await this.rawRunItems(orgId, runId)) {
      const sk = String(item.sk);
      if (sk === "RUN") stored.run = stripKeys(item);
      else if (sk.startsWith("TASK#")) stored.tasks.push(stripKeys(item));
      else if (sk.startsWith("AUDIT#")) stored.audit.push(stripKeys(item));
    }
    return stored;
  }

  async deleteRunRecords(orgId: string, runId: string): Promise<number> {
    let deleted = 0;
    for (const item of await this.rawRunItems(orgId, runId)) {
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: item.pk, sk: item.sk } }));
      deleted++;
    }
    return deleted;
  }

  /**
   * Job runs not yet ended, across orgs (embedded start-up resumes their executions). A scan, like listActiveRuns,
   * since no org-scoped query spans every org.
   */
  async listActiveJobRuns(): Promise<Array<{ orgId: string; jobRunId: string }>> {
    const out: Array<{ orgId: string; jobRunId: string }> = [];
    let start: Item | undefined;
    do {
      const res = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: "sk = :jr AND #s IN (:p, :i)",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":jr": "JOBRUN", ":p": "pending", ":i": "in_progress" },
          ProjectionExpression: "orgId, jobRunId",
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const i of res.Items ?? []) out.push({ orgId: String(i.orgId), jobRunId: String(i.jobRunId) });
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async listActiveRuns(): Promise<Array<{ orgId: string; runId: string }>> {
    const out: Array<{ orgId: string; runId: string }> = [];
    let start: Item | undefined;
    do {
      const res = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: "sk = :run AND NOT (#s IN (:a, :b, :c, :d))",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: {
            ":run": "RUN",
            ":a": "succeeded",
            ":b": "no_action",
            ":c": "failed",
            ":d": "cancelled",
          },
          ProjectionExpression: "orgId, runId",
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const i of res.Items ?? []) out.push({ orgId: String(i.orgId), runId: String(i.runId) });
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async listWaitingHumanSteps(
    orgId: string,
    page: PageRequest,
  ): Promise<Page<{ runId: string; nodeId: string; waitingSince: string }>> {
    const res = await this.queryPage(
      {
        TableName: this.table,
        IndexName: "gsi3",
        KeyConditionExpression: "gsi3pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#HUMAN` },
        ProjectionExpression: "pk, sk, gsi3pk, gsi3sk",
        ScanIndexForward: false,
      },
      page,
    );
    return {
      items: res.items.map((i) => {
        const [waitingSince = "", runId = "", nodeId = ""] = String(i.gsi3sk).split("#");
        return { runId, nodeId, waitingSince };
      }),
      nextCursor: res.nextCursor,
    };
  }

  async putWaitToken(orgId: string, runId: string, token: string, at: string): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { pk: runPk(orgId, runId), sk: "WAIT", token, at } }),
    );
  }

  async getWaitToken(orgId: string, runId: string): Promise<string | null> {
    const res = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: runPk(orgId, runId), sk: "WAIT" }, ConsistentRead: true }),
    );
    return res.Item ? String(res.Item.token) : null;
  }

  async deleteWaitToken(orgId: string, runId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: runPk(orgId, runId), sk: "WAIT" } }));
  }

  // ---- generic items for the other aggregates (jobs, schedules, webhooks, subscriptions) -----

  /** Puts an item keyed by (pk, sk) with optional index keys; `ifAbsent` makes it a create. */
  async putItem(item: Item, opts: { ifAbsent?: boolean; condition?: string; values?: Item } = {}): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: opts.ifAbsent ? "attribute_not_exists(pk)" : opts.condition,
          ExpressionAttributeValues: opts.values,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new ConflictError("the item changed or already exists");
      throw err;
    }
  }

  async getItem<T>(pk: string, sk: string): Promise<T | null> {
    const res = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }));
    return res.Item ? strip<T>(res.Item) : null;
  }

  async deleteItem(pk: string, sk: string): Promise<boolean> {
    const res = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { pk, sk }, ReturnValues: "ALL_OLD" }),
    );
    return Boolean(res.Attributes);
  }

  /** A page of an index (or the table when index is null) by partition key, newest (highest sort key) first. */
  async queryIndex<T>(
    index: "gsi1" | "gsi2" | "gsi3" | null,
    pkValue: string,
    page: PageRequest,
    newestFirst = true,
  ): Promise<Page<T>> {
    const pkName = index ? `${index}pk` : "pk";
    const res = await this.queryPage(
      {
        TableName: this.table,
        IndexName: index ?? undefined,
        KeyConditionExpression: `${pkName} = :p`,
        ExpressionAttributeValues: { ":p": pkValue },
        ScanIndexForward: !newestFirst,
      },
      page,
    );
    return { items: res.items.map((i) => strip<T>(i)), nextCursor: res.nextCursor };
  }

  // ---- query helpers -------------------------------------------------------------------------

  private async queryAll(input: QueryCommandInput): Promise<Item[]> {
    const out: Item[] = [];
    let start: Item | undefined;
    do {
      const res = await this.db.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      out.push(...((res.Items ?? []) as Item[]));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** One page of `limit` items; with a filter, reads on until the page is full. */
  private async queryPage(
    input: QueryCommandInput,
    page: PageRequest,
  ): Promise<{ items: Item[]; nextCursor: string | null }> {
    const items: Item[] = [];
    const scope = cursorScope(input);
    let start = page.cursor ? openCursor(page.cursor, scope, this.cursorKey) : undefined;
    const keyNames = ["pk", "sk"];
    if (input.IndexName) keyNames.push(`${input.IndexName}pk`, `${input.IndexName}sk`);
    for (;;) {
      const res = await this.db.send(
        new QueryCommand({
          ...input,
          ExclusiveStartKey: start,
          Limit: input.FilterExpression ? 100 : page.limit - items.length,
        }),
      );
      for (const item of (res.Items ?? []) as Item[]) {
        items.push(item);
        if (items.length === page.limit) {
          const last: Item = {};
          for (const k of keyNames) last[k] = item[k];
          const more = res.LastEvaluatedKey !== undefined || item !== res.Items?.[res.Items.length - 1];
          return { items, nextCursor: more ? sealCursor(last, scope, this.cursorKey) : null };
        }
      }
      start = res.LastEvaluatedKey;
      if (!start) return { items, nextCursor: null };
    }
  }
}

// Events a load saw ahead of their items, keyed by the loaded state, applied by its next commit.
const unapplied = new WeakMap<RunState, StoredEvent[]>();
