import { z } from "zod";
import { ROUTE_SPECS, type RouteSpec } from "../functions/http/route-specs.ts";
import { ENGINE_VERSION } from "../shared/config.ts";
import { WorkflowDefinitionSchema } from "../shared/domain/workflow.ts";
import * as S from "./openapi-shapes.ts";

/** The workflow definition's JSON Schema, generated from the zod schema the API validates with. */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkflowDefinitionSchema, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
}

type Spec = (typeof ROUTE_SPECS)[number];
/** "METHOD path" of each entry of the route table (RouteKey also admits method/path pairs that are no route). */
export type SpecKey = Spec extends infer R
  ? R extends { method: infer M extends string; path: infer P extends string }
    ? `${M} ${P}`
    : never
  : never;

export type SuccessStatus = 200 | 201 | 202 | 204 | 302;
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415;

interface SuccessDoc {
  description: string;
  /** A JSON body. */
  schema?: z.ZodType;
  /** A body of another media type (OpenAPI media type objects by content type). */
  content?: Record<string, object>;
  /** Response headers by name, with what they say. */
  headers?: Record<string, string>;
}

/** What the document says about one route beyond its path and access (which come from ROUTE_SPECS). */
export interface OperationDoc {
  summary: string;
  description?: string;
  /** The JSON request body: the schema the route parses it with. */
  body?: z.ZodType;
  /** Query parameters besides ?limit= and ?cursor=. */
  query?: z.ZodObject;
  /** A list answering {items, nextCursor}: takes ?limit= and ?cursor=. */
  paged?: boolean;
  /** Request headers the route reads. */
  headers?: Array<
    | "IdempotencyKey"
    | "WebhookIdHeader"
    | "WebhookTimestamp"
    | "WebhookSignature"
    | "HubSignature256"
    | "GithubDelivery"
  >;
  /** Every status the route answers on success, as the handler really answers. */
  success: Partial<Record<SuccessStatus, SuccessDoc>>;
  /** Route-specific error reasons; `false` drops one the route's kind would otherwise be given (see errorsOf). */
  errors?: Partial<Record<ErrorStatus, string | false>>;
}

const json = (schema: z.ZodType, description: string): SuccessDoc => ({ schema, description });
const bytes = { "*/*": { schema: { type: "string", contentMediaType: "application/octet-stream" } } };
const redirect = (what: string): SuccessDoc => ({
  description: `${what} larger than 1 MiB (cloud deployment): a redirect to a presigned URL valid for 5 minutes`,
  headers: { location: "the presigned URL" },
});
const runQuery = S.RunQuery.pick({ status: true });
const PATH_PARAMS: Record<string, string> = {
  runId: "run_…",
  otherRunId: "run_…",
  jobRunId: "jr_…",
  keyId: "key_…",
  webhookId: "wh_…",
  id: "dlv_…",
  definitionHash: "sha256:<64 hex>",
  sha256: "sha256:<64 hex>, or the 64 hex digits alone",
  path: "the file's path relative to out/ (may contain '/')",
};

/**
 * Every route's documentation, keyed like the route table: adding a route to ROUTE_SPECS without documenting it
 * here fails tsc. Success codes follow the handlers in functions/http/routes/*.ts.
 */
export const OPERATIONS: Record<SpecKey, OperationDoc> = {
  "GET /api/health": {
    summary: "Liveness and engine version",
    success: { 200: json(S.Health, "The service is up") },
  },
  "POST /api/orgs": {
    summary: "Create an organisation (platform key only)",
    body: S.OrgBody,
    success: { 201: json(S.OrgCreated, "The org and an admin key of it, shown once") },
    errors: { 403: "only the platform key may create orgs", 409: "the orgId exists already" },
  },
  "POST /api/keys": {
    summary: "Create an API key of the caller's org",
    body: S.KeyBody,
    success: { 201: json(S.KeyCreated, "The key, shown once (stored only as a hash)") },
  },
  "GET /api/keys": {
    summary: "List the org's API keys (without the keys)",
    paged: true,
    success: { 200: json(S.KeyList, "The org's keys") },
  },
  "DELETE /api/keys/{keyId}": {
    summary: "Revoke an API key",
    success: { 204: { description: "Revoked" } },
  },
  "GET /api/whoami": {
    summary: "The caller's org, key, role and user (an addition to the contract)",
    success: { 200: json(S.Whoami, "Who the key is") },
  },
  "PUT /api/settings/retention": {
    summary: "Set the org's retention of logs and file contents",
    body: S.RetentionBody,
    success: { 200: json(S.Retention, "The stored settings; the next sweep applies them") },
  },
  "GET /api/settings/retention": {
    summary: "The org's retention settings (an addition to the contract)",
    success: { 200: json(S.Retention, "The settings (defaults: days null, keepEvidence true)") },
  },

  "GET /api/workflows": {
    summary: "List workflows (latest version of each)",
    paged: true,
    success: { 200: json(S.WorkflowList, "The org's workflows") },
  },
  "PUT /api/workflows/{name}": {
    summary: "Store a workflow definition",
    body: S.WorkflowBody,
    success: {
      201: json(S.WorkflowPut, "A new version was created"),
      200: json(S.WorkflowPut, "The definition equals the latest version; nothing changed"),
    },
    errors: {
      400: "an invalid definition (a cycle, an unknown `needs`, a duplicate id, a bad field; the message names the node) or a name that differs from the path",
      409: "the workflow is being changed concurrently; try again",
    },
  },
  "GET /api/workflows/{name}": {
    summary: "The latest version of a workflow",
    success: { 200: json(S.WorkflowVersion, "The latest version, with its definition") },
  },
  "GET /api/workflows/{name}/versions": {
    summary: "Every version of a workflow, newest first",
    paged: true,
    success: { 200: json(S.WorkflowVersionList, "The versions") },
  },
  "GET /api/workflows/{name}/runs": {
    summary: "The workflow's runs",
    paged: true,
    query: runQuery,
    success: { 200: json(S.RunList, "Run summaries, newest first") },
  },
  "POST /api/workflows/{name}/trigger": {
    summary: "Start a run of the latest version",
    body: S.TriggerBody,
    headers: ["IdempotencyKey"],
    success: { 202: json(S.RunAccepted, "The run is queued (the same Idempotency-Key within 24 h: the same run)") },
    errors: {
      400: "missing or mistyped parameters (no run is created), or an Idempotency-Key over 200 characters",
      409: "a run for this Idempotency-Key is still being created; retry with the same key",
    },
  },
  "POST /api/workflows/by-hash/{definitionHash}/trigger": {
    summary: "Start a run pinned to an exact definition",
    body: S.TriggerBody,
    headers: ["IdempotencyKey"],
    success: { 202: json(S.RunAccepted, "The run is queued (the same Idempotency-Key within 24 h: the same run)") },
    errors: {
      400: "a definitionHash that is not sha256:<64 hex>, or missing or mistyped parameters (no run is created)",
      404: "no definition with this hash in the org",
      409: "a run for this Idempotency-Key is still being created; retry with the same key",
    },
  },
  "POST /api/workflows/{name}/webhooks": {
    summary: "Create an inbound webhook for the workflow",
    body: S.WebhookBody,
    success: { 201: json(S.WebhookCreated, "The webhook and its signing secret, shown once") },
  },
  "GET /api/workflows/{name}/webhooks": {
    summary: "The workflow's webhooks (without secrets)",
    paged: true,
    success: { 200: json(S.WebhookList, "The webhooks, newest first") },
  },
  "DELETE /api/workflows/{name}/webhooks/{webhookId}": {
    summary: "Revoke a webhook (later calls to its URL get 404)",
    success: { 204: { description: "Revoked" } },
  },

  "POST /api/runs": {
    summary: "Start a run of a workflow (optionally pinned to a definitionHash)",
    body: S.RunBody,
    headers: ["IdempotencyKey"],
    success: { 202: json(S.RunAccepted, "The run is queued, as for trigger") },
    errors: {
      400: "missing or mistyped parameters (no run is created), a bad definitionHash or Idempotency-Key",
      404: "no such workflow, or no definition with that hash",
      409: "a run for this Idempotency-Key is still being created; retry with the same key",
    },
  },
  "GET /api/runs": {
    summary: "List runs",
    paged: true,
    query: S.RunQuery,
    success: { 200: json(S.RunList, "Run summaries, newest first (beyond the contract: `durationMs`)") },
  },
  "GET /api/runs/{runId}": {
    summary: "A run",
    success: {
      200: json(
        S.RunView,
        "The run. Beyond the contract: `root` (the evidence root sealed when the run ended, null until then) and each context entry's `writtenBy`",
      ),
    },
  },
  "GET /api/runs/{runId}/tasks": {
    summary: "Every task's evidence",
    success: { 200: json(S.TaskList, "One task per node, in definition order (not paged: no nextCursor)") },
  },
  "GET /api/runs/{runId}/tasks/{nodeId}": {
    summary: "One task's evidence",
    success: {
      200: json(
        S.TaskView,
        "The task. Beyond the contract: `error`, `logSha256`, `maskedOutputs`, `noActionReason` and, for human steps, `waitingSince`, `decisions`, `submittedBy`",
      ),
    },
    errors: { 404: "no such run, or no such node in it" },
  },
  "GET /api/runs/{runId}/logs": {
    summary: "The run's logs as text",
    query: z.object({ node: z.string().optional().describe("only this node's lines") }),
    success: {
      200: {
        description:
          "Lines prefixed with the node id (`node#attempt` for retries), then `|` for stdout or `!` for stderr",
        content: { "text/plain": { schema: { type: "string" } } },
      },
    },
    errors: { 400: false, 404: "no such run, or no such node in it" },
  },
  "GET /api/runs/{runId}/files": {
    summary: "The run's files",
    success: { 200: json(S.RunFileList, "One entry per path (the latest writer wins); not paged (nextCursor null)") },
  },
  "GET /api/runs/{runId}/files/{path+}": {
    summary: "A run file's bytes",
    query: S.FileQuery,
    success: {
      200: {
        description: "The bytes, typed by the file's extension",
        content: bytes,
        headers: {
          "x-stepwise-sha256": "the file's sha256:<hex>",
          "x-stepwise-produced-by": "the node that wrote this version",
        },
      },
      302: redirect("A file"),
    },
    errors: {
      400: "not a relative run file path",
      404: "no such run or file, or its content is no longer stored (retention)",
    },
  },
  "GET /api/runs/{runId}/lineage": {
    summary: "The run's lineage graph",
    success: { 200: json(S.Lineage, "Parameters, tasks and files, and the edges between them") },
  },
  "GET /api/runs/{runId}/verify": {
    summary: "Recompute the audit chain and the evidence manifest from what is stored",
    success: {
      200: json(
        S.Verify,
        "The report. Beyond the contract: `runId`, `sealedRoot`, `sealed`, `checked`, `eventsAfterSeal`",
      ),
    },
  },
  "GET /api/runs/{runId}/export": {
    summary: "The run's evidence bundle (an addition to the contract)",
    description:
      "A tar.gz holding the run, task and audit records, the manifest, every file and log; `stepwise verify <file>` checks it without a server. The bundle is also kept next to the run.",
    success: {
      200: {
        description: "The bundle",
        content: { "application/gzip": { schema: { type: "string", contentMediaType: "application/gzip" } } },
        headers: {
          "content-disposition": 'attachment; filename="<runId>.tgz"',
          "x-stepwise-root": "the run's sealed evidence root (absent while the run is not sealed)",
        },
      },
      302: redirect("A bundle"),
    },
  },
  "GET /api/runs/{runId}/compare/{otherRunId}": {
    summary: "Compare two runs task by task",
    success: { 200: json(S.Compare, "Per task, whether definition, inputs and outputs match by hash") },
    errors: { 404: "either run does not exist in the org" },
  },
  "GET /api/runs/{runId}/audit": {
    summary: "The run's audit chain",
    success: { 200: json(S.AuditTrail, "Every event in order; `hash` chains each to the previous one") },
  },
  "POST /api/runs/{runId}/cancel": {
    summary: "Cancel a run",
    body: S.CancelBody,
    success: { 202: json(S.CancelAccepted, "The cancel is recorded and the run's execution stopped") },
    errors: { 409: "the run is already terminal" },
  },
  "POST /api/runs/{runId}/rerun": {
    summary: "Start a new run with the same definitionHash and parameters",
    success: { 202: json(S.RunAccepted, "The new run is queued (trigger.type rerun, rerunOf set)") },
  },
  "POST /api/runs/{runId}/approvals/{nodeId}": {
    summary: "Approve or reject an approval step",
    body: S.DecisionBody,
    success: { 200: json(S.DecisionResult, "The decision is recorded") },
    errors: {
      403: "the key's role may not decide this step, or the person who started the run may not approve it",
      404: "no such run, or no such node in it",
      409: "the step is not awaiting approval (or timed out), the node is not an approval, or this person already decided",
    },
  },
  "POST /api/runs/{runId}/inputs/{nodeId}": {
    summary: "Answer an input step",
    body: S.InputBody,
    success: { 200: json(S.InputResult, "The values are recorded (secret ones are never shown again)") },
    errors: {
      400: "values that do not match the node's fields (the run keeps waiting)",
      403: "viewers may not answer input steps",
      404: "no such run, or no such node in it",
      409: "the step is not awaiting input (or timed out), or the node is not an input",
    },
  },
  "GET /api/approvals": {
    summary: "The org's human steps waiting for someone",
    paged: true,
    query: z.object({ status: z.literal("pending").optional().describe("only pending is supported") }),
    success: { 200: json(S.ApprovalInbox, "Waiting approval and input steps, newest first") },
  },
  "GET /api/files/{sha256}/lineage": {
    summary: "Every run and task of the org that produced or read some content",
    paged: true,
    success: { 200: json(S.FileLineage, "Uses of the content, newest runs first (empty when none)") },
    errors: { 400: "not a sha256 hash", 404: false },
  },

  "PUT /api/jobs/{name}": {
    summary: "Create or replace a job",
    body: S.JobBody,
    success: { 201: json(S.JobPut, "The job was created"), 200: json(S.JobPut, "The job was replaced") },
    errors: {
      400: "a bad name or body, an unknown workflow in workflowExecutionOrder, or parameters the workflows do not declare",
      409: "the job kept changing concurrently; try again",
      413: "the body is over 1 MiB, or the job's configuration over 128 KiB",
    },
  },
  "GET /api/jobs": {
    summary: "List jobs",
    paged: true,
    success: { 200: json(S.JobList, "The org's jobs") },
  },
  "GET /api/jobs/{name}": {
    summary: "A job",
    success: { 200: json(S.JobPut, "The job") },
  },
  "POST /api/jobs/{name}/runs": {
    summary: "Start a job run",
    body: S.JobRunBody,
    headers: ["IdempotencyKey"],
    success: {
      202: json(S.JobRunRef, "The job run is pending (the same Idempotency-Key: the existing job run and its status)"),
    },
    errors: { 400: "parameters the workflows do not declare, or required ones missing" },
  },
  "GET /api/job-runs": {
    summary: "List job runs",
    paged: true,
    query: S.JobRunQuery,
    success: { 200: json(S.JobRunList, "Job runs, newest first") },
  },
  "GET /api/job-runs/{jobRunId}": {
    summary: "A job run",
    success: {
      200: json(
        S.JobRunView,
        "The job run. Beyond the contract: `orgId`, `trigger`, `startedAt`, `error`; a workflow the job run halted before is listed with status `not_started` and runId null",
      ),
    },
  },
  "POST /api/job-runs/{jobRunId}/cancel": {
    summary: "Cancel a job run: its running workflow run and the rest",
    body: S.JobRunCancelBody,
    success: { 202: json(S.JobRunRef, "The job run is cancelled") },
    errors: { 409: "the job run is already terminal" },
  },

  "PUT /api/schedules/{name}": {
    summary: "Create or replace a schedule",
    body: S.ScheduleBody,
    success: {
      201: json(S.Schedule, "The schedule was created"),
      200: json(S.Schedule, "The schedule was replaced"),
    },
    errors: { 400: "a bad name, cron or timezone, an unknown target, or parameters the target does not accept" },
  },
  "GET /api/schedules": {
    summary: "List schedules",
    paged: true,
    success: { 200: json(S.ScheduleList, "The org's schedules, newest first") },
  },
  "GET /api/schedules/{name}": {
    summary: "A schedule and what it last did (an addition to the contract)",
    success: { 200: json(S.ScheduleState, "The schedule with lastFiredFor, lastRunId, lastJobRunId, buffered…") },
  },
  "DELETE /api/schedules/{name}": {
    summary: "Delete a schedule",
    success: { 204: { description: "Deleted" } },
  },
  "PUT /api/subscriptions/{name}": {
    summary: "Create or replace a subscription to events",
    body: S.SubscriptionBody,
    success: {
      201: json(S.SubscriptionPut, "The subscription was created (with `secret` when one was generated)"),
      200: json(S.SubscriptionPut, "The subscription was replaced (an update without a secret keeps the old one)"),
    },
    errors: { 400: "a bad name, a url that is not https (or points at a private address), or unknown event types" },
  },
  "GET /api/subscriptions": {
    summary: "List subscriptions (an addition to the contract)",
    paged: true,
    success: { 200: json(S.SubscriptionList, "The org's subscriptions, without secrets") },
  },
  "DELETE /api/subscriptions/{name}": {
    summary: "Delete a subscription (an addition to the contract)",
    success: { 204: { description: "Deleted" } },
  },
  "GET /api/subscriptions/{name}/deliveries": {
    summary: "A subscription's delivery attempts",
    paged: true,
    success: { 200: json(S.DeliveryList, "Deliveries, newest first, each with its attempts") },
  },
  "POST /api/subscriptions/{name}/deliveries/{id}/redeliver": {
    summary: "Send a delivery's event again",
    success: { 202: json(S.DeliveryView, "A new delivery of the same event id and body, queued") },
  },

  "POST /hooks/{webhookId}": {
    summary: "Inbound webhook: start a run of the hook's workflow",
    description:
      "No bearer key: signed the Standard Webhooks way (webhook-id, webhook-timestamp within 5 minutes, webhook-signature) or GitHub's way (X-Hub-Signature-256 with X-GitHub-Delivery); a bad or missing signature is 401 and starts nothing. The same delivery id again (24 h) answers 202 with the first runId and starts no second run. The JSON body becomes the run's parameters; runs have trigger.type webhook.",
    body: S.HookBody,
    headers: ["WebhookIdHeader", "WebhookTimestamp", "WebhookSignature", "HubSignature256", "GithubDelivery"],
    success: { 202: json(S.WebhookAccepted, "The run is queued") },
    errors: {
      400: "a body that is not a JSON object, or missing or mistyped parameters (no run is created)",
      401: "a missing or bad signature (no run is created)",
      404: "no such webhook (or it was revoked)",
      413: "the body is over the webhook body limit",
    },
  },
};

const GENERIC_ERRORS: Record<ErrorStatus, string> = {
  400: "validation_failed: a bad body, parameter or query value; `details` names each field",
  401: "unauthorized: a missing or unknown API key",
  403: "forbidden: the key's role may not do this",
  404: "not_found: no such resource in the key's org (another org's is never revealed)",
  409: "conflict",
  413: "payload_too_large: the body is over 1 MiB",
  415: "unsupported_media_type: a body that is not application/json",
};

/** The error statuses a route answers: those of its kind (body, list, path, access) and its own. */
export function errorsOf(spec: RouteSpec, doc: OperationDoc): Partial<Record<ErrorStatus, string>> {
  const out: Partial<Record<ErrorStatus, string>> = {};
  const has = (cond: boolean, status: ErrorStatus) => {
    if (cond) out[status] = GENERIC_ERRORS[status];
  };
  has(doc.body !== undefined || doc.query !== undefined || doc.paged === true, 400);
  has(spec.access !== "public", 401);
  has(spec.access !== "public" && spec.access !== "signed" && spec.access !== "viewer", 403);
  // A PUT creates what its path names; every other route with a path parameter looks it up first.
  has(spec.path.includes("{") && spec.method !== "PUT", 404);
  has(doc.body !== undefined, 413);
  has(doc.body !== undefined, 415);
  for (const [status, reason] of Object.entries(doc.errors ?? {})) {
    const s = Number(status) as ErrorStatus;
    if (reason === false) delete out[s];
    else out[s] = reason;
  }
  return out;
}

const SCHEMA_OPTIONS = { target: "draft-2020-12", io: "input", unrepresentable: "any" } as const;
const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

/** A `$ref` to a named component, or the schema inline. */
function schemaRef(schema: z.ZodType): Record<string, unknown> {
  const id = S.components.get(schema)?.id;
  if (id) return { $ref: `#/components/schemas/${id}` };
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, SCHEMA_OPTIONS) as Record<string, unknown>;
  return rest;
}

function queryParameters(query: z.ZodObject): Record<string, unknown>[] {
  return Object.entries(query.shape).map(([name, field]) => {
    const { description, ...schema } = schemaRef(field as z.ZodType);
    return {
      name,
      in: "query",
      required: !(field as z.ZodType).safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema,
    };
  });
}

function operation(spec: RouteSpec, doc: OperationDoc, path: string): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [...path.matchAll(/\{([A-Za-z0-9]+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    ...(PATH_PARAMS[m[1] as string] ? { description: PATH_PARAMS[m[1] as string] } : {}),
    schema: { type: "string" },
  }));
  if (doc.paged) parameters.push({ $ref: "#/components/parameters/limit" }, { $ref: "#/components/parameters/cursor" });
  if (doc.query) parameters.push(...queryParameters(doc.query));
  for (const h of doc.headers ?? []) parameters.push({ $ref: `#/components/parameters/${h}` });

  const responses: Record<string, unknown> = {};
  for (const [status, s] of Object.entries(doc.success)) {
    const content = s.schema ? { "application/json": { schema: schemaRef(s.schema) } } : s.content;
    const headers = s.headers
      ? Object.fromEntries(
          Object.entries(s.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }]),
        )
      : undefined;
    responses[status] = {
      description: s.description,
      ...(headers ? { headers } : {}),
      ...(content ? { content } : {}),
    };
  }
  for (const [status, description] of Object.entries(errorsOf(spec, doc)))
    responses[status] = { description, content: errorContent };
  responses.default = {
    description: "Any other error in the contract's error JSON, e.g. internal (500; never leaks internals)",
    content: errorContent,
  };

  const segment = path.split("/").filter(Boolean);
  const op: Record<string, unknown> = {
    operationId: `${spec.method.toLowerCase()}${path.replace(/[{}]/g, "").replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [segment[0] === "api" ? (segment[1] ?? "api") : (segment[0] ?? "api")],
    "x-stepwise-access": spec.access,
    parameters,
  };
  if (doc.body) {
    op.requestBody = {
      // The routes parse an absent body as {}: the body is required only when {} is not valid.
      required: !doc.body.safeParse({}).success,
      content: { "application/json": { schema: schemaRef(doc.body) } },
    };
  }
  op.responses = responses;
  if (spec.access === "public" || spec.access === "signed") op.security = [];
  return op;
}

/** The named component schemas, generated from the zod registry with cross references. */
function componentSchemas(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(S.components, {
    ...SCHEMA_OPTIONS,
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  const out: Record<string, unknown> = {};
  for (const id of Object.keys(schemas).sort()) {
    const { $schema: _s, $id: _i, ...rest } = schemas[id] as Record<string, unknown>;
    out[id] = rest;
  }
  return out;
}

/** The OpenAPI 3.1 document of every route, generated from the route table, OPERATIONS and the zod schemas. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of ROUTE_SPECS) {
    const path = spec.path.replace("{path+}", "{path}");
    const op = operation(spec, OPERATIONS[`${spec.method} ${spec.path}` as SpecKey], path);
    paths[path] = { ...paths[path], [spec.method.toLowerCase()]: op };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Stepwise API",
      version: ENGINE_VERSION,
      description:
        "Generated from functions/http/route-specs.ts, the OPERATIONS table of scripts/openapi.ts and the zod schemas (npm run docs). Timestamps are UTC ISO 8601 with microseconds; hashes are sha256:<64 hex>; lists are newest first unless said otherwise.",
    },
    servers: [{ url: "http://127.0.0.1:8787" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      parameters: {
        limit: {
          name: "limit",
          in: "query",
          required: false,
          description: "page size",
          schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
        },
        cursor: {
          name: "cursor",
          in: "query",
          required: false,
          description: "the nextCursor of the previous page",
          schema: { type: "string" },
        },
        IdempotencyKey: {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description: "the same key again (24 h) answers with the same run instead of starting another",
          schema: { type: "string" },
        },
        WebhookIdHeader: {
          name: "webhook-id",
          in: "header",
          required: false,
          description: "Standard Webhooks: the delivery id (the replay guard's key for 24 h)",
          schema: { type: "string", maxLength: 160 },
        },
        WebhookTimestamp: {
          name: "webhook-timestamp",
          in: "header",
          required: false,
          description: "Standard Webhooks: unix seconds; more than 5 minutes from now is refused",
          schema: { type: "string", pattern: "^[0-9]+$" },
        },
        WebhookSignature: {
          name: "webhook-signature",
          in: "header",
          required: false,
          description:
            'Standard Webhooks: space-separated "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>", key = the base64-decoded part of the whsec_ secret',
          schema: { type: "string" },
        },
        HubSignature256: {
          name: "X-Hub-Signature-256",
          in: "header",
          required: false,
          description: "GitHub: sha256=<hex HMAC-SHA256(secret as written, raw body)>",
          schema: { type: "string", pattern: "^sha256=[0-9a-fA-F]{64}$" },
        },
        GithubDelivery: {
          name: "X-GitHub-Delivery",
          in: "header",
          required: false,
          description: "GitHub: the delivery id, required with X-Hub-Signature-256 (the replay guard's key for 24 h)",
          schema: { type: "string", maxLength: 160 },
        },
      },
      schemas: componentSchemas(),
    },
  };
}

// `node --import tsx scripts/openapi.ts` rewrites docs/openapi.json and docs/workflow.schema.json.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFile } = await import("node:fs/promises");
  await writeFile("docs/openapi.json", `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  await writeFile("docs/workflow.schema.json", `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`);
  console.log("wrote docs/openapi.json and docs/workflow.schema.json");
}
