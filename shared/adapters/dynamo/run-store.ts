import { DeleteCommand, GetCommand, PutCommand, type QueryCommandInput, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { GENESIS_HASH } from "../../domain/audit.ts";
import type { AuditEvent, Page, RunRecord, RunStatus } from "../../domain/records.ts";
import type { Change, PageRequest, RunFilter, RunState, RunStore, StoredRun } from "../../ports/run-store.ts";
import { TTL_ATTRIBUTE } from "../dynamo-table.ts";
import { eventsOfItem } from "./run-audit-items.ts";
import { auditEvents, commitAll, loadRun, type Table, writeRecords } from "./run-commit.ts";
import { AUDIT_PREFIX, type Item, runPk, strip, TASK_PREFIX } from "./run-keys.ts";
import { DynamoTableItems } from "./run-table-items.ts";

/** The RunStore on one DynamoDB table (DynamoDB in the cloud, dynalite embedded). */
export class DynamoRunStore extends DynamoTableItems implements RunStore {
  private get t(): Table {
    return { db: this.db, table: this.table };
  }

  // ---- runs and the audit chain --------------------------------------------------------------

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

  loadRun(orgId: string, runId: string): Promise<RunState | null> {
    return loadRun(this.t, orgId, runId);
  }

  commit(state: RunState, change: Change, at: string): Promise<void> {
    return commitAll(this.t, state, [change], at);
  }

  commitAll(state: RunState, changes: Change[], at: string, opts: { deferRecords?: boolean } = {}): Promise<void> {
    return commitAll(this.t, state, changes, at, opts.deferRecords);
  }

  writeRecords(state: RunState, opts: { settledOnly?: boolean } = {}): Promise<void> {
    return writeRecords(this.t, state, opts.settledOnly);
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
    return (await auditEvents(this.t, orgId, runId)).map((e) => strip<AuditEvent>(e, ["target", "delta", "snapshot"]));
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
      else if (sk.startsWith(TASK_PREFIX)) stored.tasks.push(stripKeys(item));
      // One audit item per commit: the audit trail is the flat list of their events.
      else if (sk.startsWith(AUDIT_PREFIX)) stored.audit.push(...eventsOfItem(item));
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
}
