import type { AuditEvent } from "../shared/domain/records.ts";
import { CliError } from "./errors.ts";
import type { InputFieldSpec, ParameterSpec } from "./params.ts";

// Wire types of the HTTP contract (shared/contract/api.md). The CLI is a client of that page only, so these
// are declared here rather than borrowed from the server's records; fields the contract leaves open are optional.

export interface WorkflowRef {
  name: string;
  version: number;
  definitionHash: string;
}

export interface NodeDefinition {
  id: string;
  type: string;
  needs?: string[];
  fields?: Record<string, InputFieldSpec>;
  [extra: string]: unknown;
}

export interface WorkflowDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, ParameterSpec>;
  nodes: NodeDefinition[];
  [extra: string]: unknown;
}

export interface WorkflowRecord extends WorkflowRef {
  definition: WorkflowDefinition;
  createdAt: string;
  description?: string;
}

export interface WorkflowSummary extends Partial<WorkflowRef> {
  name: string;
  description?: string;
  createdAt?: string;
  updatedAt?: string;
  definition?: WorkflowDefinition;
}

export interface TriggerResult {
  runId: string;
  status: string;
  workflow: WorkflowRef;
}

export interface RunError {
  code?: string;
  message: string;
  nodeId?: string;
}

export interface Run {
  runId: string;
  orgId?: string;
  workflow: WorkflowRef;
  engineVersion?: string;
  status: string;
  currentStateName?: string | null;
  trigger?: { type: string; userId?: string; [extra: string]: unknown };
  createdBy?: string;
  jobRunId?: string | null;
  rerunOf?: string | null;
  restartOf?: string | null;
  queuedReason?: string | null;
  cancelReason?: string | null;
  cancelledBy?: string | null;
  parameters?: Record<string, unknown>;
  context?: Record<string, unknown>;
  createdAt?: string;
  startedAt?: string | null;
  updatedAt?: string;
  completedAt?: string | null;
  error?: RunError | null;
  noActionReason?: string | null;
  root?: string | null;
}

export interface RestartResult {
  runId: string;
  restartOf: string;
  status: string;
  rerun: string[];
  reused: string[];
}

export interface Task {
  nodeId: string;
  type: string;
  status: string;
  attempt?: number | null;
  exitCode?: number | null;
  startedAt?: string | null;
  endedAt?: string | null;
  durationMs?: number | null;
  error?: RunError | null;
  [extra: string]: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PendingHumanStep {
  runId: string;
  nodeId: string;
  type?: string;
  workflow?: WorkflowRef | string;
  since?: string | null;
  timeoutAt?: string | null;
  whoMayAnswer?: string[];
  /** Approval steps: the quorum and the decisions so far. */
  approvals?: { required: number; received: number };
  /** Input steps: the fields asked for. */
  fields?: Record<string, { type?: string; secret?: boolean; required?: boolean }>;
  [extra: string]: unknown;
}

export interface Job {
  name: string;
  description?: string;
  workflowExecutionOrder: string[];
  parameters?: Record<string, Record<string, unknown>>;
  createdAt?: string;
  updatedAt?: string;
}

export interface JobRun {
  jobRunId: string;
  job: string;
  status: string;
  jobConfigJsonSnapshot?: Partial<Job>;
  /** runId is null for a workflow the job run never started (status `not_started`). */
  workflowRuns: Array<{ workflow: string; runId: string | null; status: string }>;
  createdBy?: string;
  createdAt?: string;
  updatedAt?: string;
  completedAt?: string | null;
  /** Why the job run failed: the workflow run that failed and its reason. */
  error?: { code: string; message: string } | null;
}

export interface Schedule {
  name: string;
  target: { workflow?: string; job?: string };
  cron: string;
  timezone: string;
  parameters?: Record<string, unknown>;
  enabled?: boolean;
  overlap?: string;
  catchupWindowSeconds?: number;
  nextRunAt?: string | null;
  [extra: string]: unknown;
}

export interface Webhook {
  webhookId: string;
  url?: string;
  secret?: string;
  createdAt?: string;
  [extra: string]: unknown;
}

export interface Subscription {
  name: string;
  url: string;
  events: string[];
  createdAt?: string;
  [extra: string]: unknown;
}

export interface Delivery {
  id?: string;
  deliveryId?: string;
  type?: string;
  event?: string;
  status?: string;
  attempts?: number;
  responseStatus?: number | null;
  createdAt?: string;
  [extra: string]: unknown;
}

export interface ApiKey {
  keyId: string;
  name?: string;
  role?: string;
  createdAt?: string;
  key?: string;
  [extra: string]: unknown;
}

export interface ErrorDetail {
  path?: string;
  message: string;
}

/** An error response of the API, carrying the contract's error JSON. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  constructor(status: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The raw outcome of a call: the HTTP status and the parsed body (null when empty). */
export interface ApiResponse<T> {
  status: number;
  body: T;
}

type Query = Record<string, string | number | undefined | null>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

const seg = encodeURIComponent;

/** A small typed client for the Stepwise HTTP API contract. */
export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends one request; parses JSON (or returns text for text/plain) and throws ApiError on a non-2xx status. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, ...options.headers };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw connectionError(this.baseUrl, err);
    }
    const text = await res.text();
    const isJson = (res.headers.get("content-type") ?? "").includes("json");
    let body: unknown = text === "" ? null : text;
    if (isJson && text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!res.ok) throw toApiError(res, body);
    return { status: res.status, body: body as T };
  }

  private async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.request<T>("GET", path, { query })).body;
  }

  // Health
  health = () => this.get<{ status: string; engineVersion: string }>("/api/health");

  // Workflows
  /** PUT a definition; `created` is true on 201 (a new version), false on 200 (same as the latest). */
  async applyWorkflow(definition: { name: string }): Promise<WorkflowRef & { created: boolean; raw: unknown }> {
    const res = await this.request<WorkflowRef>("PUT", `/api/workflows/${seg(definition.name)}`, { body: definition });
    return { ...res.body, created: res.status === 201, raw: res.body };
  }
  listWorkflows = (query: Query = {}) => this.get<Page<WorkflowSummary>>("/api/workflows", query);
  getWorkflow = (name: string) => this.get<WorkflowRecord>(`/api/workflows/${seg(name)}`);
  listWorkflowVersions = (name: string, query: Query = {}) =>
    this.get<Page<Partial<WorkflowRecord>>>(`/api/workflows/${seg(name)}/versions`, query);
  async triggerWorkflow(name: string, parameters: Record<string, unknown>, idempotencyKey?: string) {
    const headers: Record<string, string> = idempotencyKey ? { "idempotency-key": idempotencyKey } : {};
    const res = await this.request<TriggerResult>("POST", `/api/workflows/${seg(name)}/trigger`, {
      body: { parameters },
      headers,
    });
    return res.body;
  }

  // Runs
  listRuns = (query: Query = {}) => this.get<Page<Run>>("/api/runs", query);
  getRun = (runId: string) => this.get<Run>(`/api/runs/${seg(runId)}`);
  /** The run's tasks; accepts a bare array or an `{items}` page so either server shape works. */
  async getTasks(runId: string): Promise<Task[]> {
    const body = await this.get<Task[] | { items: Task[] }>(`/api/runs/${seg(runId)}/tasks`);
    return Array.isArray(body) ? body : (body?.items ?? []);
  }
  async getLogs(runId: string, node?: string): Promise<string> {
    const body = await this.get<unknown>(`/api/runs/${seg(runId)}/logs`, { node });
    return typeof body === "string" ? body : body === null ? "" : JSON.stringify(body);
  }
  getAudit = (runId: string) => this.get<{ items: AuditEvent[] }>(`/api/runs/${seg(runId)}/audit`);
  cancelRun = async (runId: string, reason?: string) =>
    (await this.request<unknown>("POST", `/api/runs/${seg(runId)}/cancel`, { body: reason ? { reason } : {} })).body;
  rerun = async (runId: string) =>
    (await this.request<TriggerResult>("POST", `/api/runs/${seg(runId)}/rerun`, { body: {} })).body;
  restart = async (runId: string, body: { from?: string[]; definition?: "same" | "latest" }) =>
    (await this.request<RestartResult>("POST", `/api/runs/${seg(runId)}/restart`, { body })).body;
  archiveWorkflow = async (name: string) => (await this.request<unknown>("DELETE", `/api/workflows/${seg(name)}`)).body;
  archiveJob = async (name: string) => (await this.request<unknown>("DELETE", `/api/jobs/${seg(name)}`)).body;
  decide = async (runId: string, nodeId: string, decision: "approve" | "reject", comment?: string) =>
    (
      await this.request<unknown>("POST", `/api/runs/${seg(runId)}/approvals/${seg(nodeId)}`, {
        body: comment === undefined ? { decision } : { decision, comment },
      })
    ).body;
  submitInput = async (runId: string, nodeId: string, values: Record<string, unknown>) =>
    (await this.request<unknown>("POST", `/api/runs/${seg(runId)}/inputs/${seg(nodeId)}`, { body: { values } })).body;
  listApprovals = (query: Query = {}) => this.get<Page<PendingHumanStep>>("/api/approvals", query);

  // Jobs
  applyJob = async (name: string, body: unknown) => this.request<Job>("PUT", `/api/jobs/${seg(name)}`, { body });
  listJobs = (query: Query = {}) => this.get<Page<Job>>("/api/jobs", query);
  startJob = async (name: string, parameters?: unknown) =>
    (
      await this.request<{ jobRunId: string; status: string }>("POST", `/api/jobs/${seg(name)}/runs`, {
        body: parameters === undefined ? {} : { parameters },
      })
    ).body;
  listJobRuns = (query: Query = {}) => this.get<Page<JobRun>>("/api/job-runs", query);
  getJobRun = (id: string) => this.get<JobRun>(`/api/job-runs/${seg(id)}`);
  cancelJobRun = async (id: string) =>
    (await this.request<{ jobRunId: string; status: string }>("POST", `/api/job-runs/${seg(id)}/cancel`, { body: {} }))
      .body;

  // Triggers and notifications
  applySchedule = (name: string, body: unknown) =>
    this.request<Schedule>("PUT", `/api/schedules/${seg(name)}`, { body });
  listSchedules = (query: Query = {}) => this.get<Page<Schedule>>("/api/schedules", query);
  getSchedule = (name: string) => this.get<Schedule>(`/api/schedules/${seg(name)}`);
  deleteSchedule = async (name: string) => (await this.request<unknown>("DELETE", `/api/schedules/${seg(name)}`)).body;
  createWebhook = async (workflow: string) =>
    (await this.request<Webhook>("POST", `/api/workflows/${seg(workflow)}/webhooks`, { body: {} })).body;
  listWebhooks = (workflow: string) => this.get<Page<Webhook>>(`/api/workflows/${seg(workflow)}/webhooks`);
  deleteWebhook = async (workflow: string, webhookId: string) =>
    (await this.request<unknown>("DELETE", `/api/workflows/${seg(workflow)}/webhooks/${seg(webhookId)}`)).body;
  applySubscription = (name: string, body: unknown) =>
    this.request<Subscription>("PUT", `/api/subscriptions/${seg(name)}`, { body });
  listSubscriptions = (query: Query = {}) => this.get<Page<Subscription>>("/api/subscriptions", query);
  listDeliveries = (name: string, query: Query = {}) =>
    this.get<Page<Delivery>>(`/api/subscriptions/${seg(name)}/deliveries`, query);
  redeliver = async (name: string, deliveryId: string) =>
    (
      await this.request<unknown>("POST", `/api/subscriptions/${seg(name)}/deliveries/${seg(deliveryId)}/redeliver`, {
        body: {},
      })
    ).body;

  // Keys
  createKey = async (name: string, role: string) =>
    (await this.request<ApiKey>("POST", "/api/keys", { body: { name, role } })).body;
  listKeys = (query: Query = {}) => this.get<Page<ApiKey>>("/api/keys", query);
  deleteKey = async (keyId: string) => (await this.request<unknown>("DELETE", `/api/keys/${seg(keyId)}`)).body;
}

function toApiError(res: Response, body: unknown): ApiError {
  const error = body !== null && typeof body === "object" ? (body as { error?: unknown }).error : undefined;
  if (error !== null && typeof error === "object") {
    const e = error as { code?: unknown; message?: unknown; details?: unknown };
    const details = Array.isArray(e.details)
      ? e.details.map(
          (d): ErrorDetail =>
            d !== null && typeof d === "object"
              ? {
                  path: typeof (d as ErrorDetail).path === "string" ? (d as ErrorDetail).path : undefined,
                  message: String((d as ErrorDetail).message ?? JSON.stringify(d)),
                }
              : { message: String(d) },
        )
      : [];
    return new ApiError(
      res.status,
      typeof e.code === "string" ? e.code : `http_${res.status}`,
      typeof e.message === "string" ? e.message : `HTTP ${res.status}`,
      details,
    );
  }
  // Not the contract's shape (a proxy or gateway answered): say what came back without dumping a page of HTML.
  return new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status} ${res.statusText}`.trim());
}

function connectionError(baseUrl: string, err: unknown): CliError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") {
    return new CliError(`the Stepwise server at ${baseUrl} did not answer in time`);
  }
  const reason = e.cause?.code ?? e.cause?.message ?? e.message ?? "unknown error";
  return new CliError(`cannot reach the Stepwise server at ${baseUrl} (${reason})`, [
    "start the server with npm start, or set STEPWISE_URL and STEPWISE_API_KEY",
  ]);
}
