import type { components } from "../shared/contract/api-types.ts";
import { CliError } from "./errors.ts";

// Wire types of the HTTP contract, generated from docs/openapi.json (shared/contract/api-types.ts, npm run docs):
// the CLI is a client of the published document only, never of the server's records.
type Schemas = components["schemas"];

export type WorkflowRef = Schemas["WorkflowRef"];
export type WorkflowDefinition = Schemas["WorkflowDefinition"];
export type NodeDefinition = WorkflowDefinition["nodes"][number];
export type WorkflowRecord = Schemas["WorkflowVersion"];
export type WorkflowSummary = Schemas["WorkflowList"]["items"][number];
export type TriggerResult = Schemas["RunAccepted"];
export type RestartResult = Schemas["RestartAccepted"];
export type RunError = Schemas["RunError"];
/** A run as GET /api/runs/{runId} answers it; lists answer the summary's subset. */
export type Run = Schemas["Run"];
export type RunSummary = Schemas["RunSummary"];
export type Task = Schemas["Task"];
export type AuditTrail = Schemas["AuditTrail"];
export type Page<T> = { items: T[]; nextCursor: string | null };
export type PendingHumanStep = Schemas["HumanStepList"]["items"][number];
export type Job = Schemas["Job"];
export type JobRun = Schemas["JobRun"];
export type JobRunRef = Schemas["JobRunStatusRef"];
export type Schedule = Schemas["Schedule"];
export type ScheduleWithState = Schemas["ScheduleWithState"];
export type Webhook = Schemas["Webhook"];
export type WebhookCreated = Schemas["WebhookCreated"];
export type Subscription = Schemas["SubscriptionSaved"];
export type Delivery = Schemas["Delivery"];
export type ApiKey = Schemas["Key"];
export type KeyCreated = Schemas["KeyCreated"];
export type ErrorDetail = NonNullable<Schemas["Error"]["error"]["details"]>[number];

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
  getAudit = (runId: string) => this.get<AuditTrail>(`/api/runs/${seg(runId)}/audit`);
  cancelRun = async (runId: string, reason?: string) =>
    (await this.request<unknown>("POST", `/api/runs/${seg(runId)}/cancel`, { body: reason ? { reason } : {} })).body;
  rerun = async (runId: string) =>
    (await this.request<TriggerResult>("POST", `/api/runs/${seg(runId)}/rerun`, { body: {} })).body;
  restart = async (runId: string, body: Schemas["RestartRequest"]) =>
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
  getSchedule = (name: string) => this.get<ScheduleWithState>(`/api/schedules/${seg(name)}`);
  deleteSchedule = async (name: string) => (await this.request<unknown>("DELETE", `/api/schedules/${seg(name)}`)).body;
  createWebhook = async (workflow: string) =>
    (await this.request<WebhookCreated>("POST", `/api/workflows/${seg(workflow)}/webhooks`, { body: {} })).body;
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
    (await this.request<KeyCreated>("POST", "/api/keys", { body: { name, role } })).body;
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
