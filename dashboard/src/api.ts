// The only module that talks to the server. Everything goes through the public /api contract with the
// signed-in key as a bearer token; errors come back as ApiError so pages can show the contract's message
// and put `details` next to the fields they name.
import type {
  AuditEvent,
  ErrorDetail,
  ExportStatus,
  JobRun,
  JobRunSummary,
  JobSummary,
  Lineage,
  Page,
  PendingHumanStep,
  Run,
  RunFile,
  RunSummary,
  TaskRecord,
  TriggerResult,
  VerifyResult,
  WhoAmI,
  WorkflowDefinition,
  WorkflowDetail,
  WorkflowSummary,
  WorkflowVersion,
} from "./types.ts";
import type {
  ApiKey,
  Delivery,
  KeyCreated,
  RunComparison,
  Schedule,
  ScheduleRequest,
  Subscription,
  SubscriptionSaved,
  Webhook,
  WebhookCreated,
} from "./types-extra.ts";

/** An error response of the API, carrying the contract's code and field details. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | null | undefined>;

export interface ListOptions {
  limit?: number;
  cursor?: string | null;
}

/** Builds `path?query`, leaving out empty values so optional filters never reach the server as "". */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

const enc = encodeURIComponent;
/** File paths keep their slashes: the route is `/files/{path+}`. */
const encPath = (p: string): string => p.split("/").map(enc).join("/");

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  key: string;
  baseUrl?: string;
  fetch?: FetchLike;
  /** Called on any 401 so the app can drop the key and return to sign-in. */
  onUnauthorized?: () => void;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Creates a client bound to one API key. */
export function createApiClient(options: ApiClientOptions) {
  const base = options.baseUrl ?? "";
  const doFetch: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));

  async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = {
      method,
      headers: {
        authorization: `Bearer ${options.key}`,
        accept: "application/json",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      // Keys live in sessionStorage, never in cookies: nothing ambient should be sent.
      credentials: "omit",
      cache: "no-store",
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, init);
    } catch (err) {
      throw new ApiError(0, "network_error", `Could not reach the server (${(err as Error).message}).`);
    }
    if (!res.ok) throw await toApiError(res, options.onUnauthorized);
    return res;
  }

  async function json<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    const res = await raw(method, path, body, headers);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const get = <T>(path: string) => json<T>("GET", path);
  const put = <T>(path: string, body: unknown) => json<T>("PUT", path, body);
  const del = async (path: string): Promise<void> => {
    await raw("DELETE", path);
  };
  const post = <T>(path: string, body: unknown = {}, headers?: Record<string, string>) =>
    json<T>("POST", path, body, headers);

  return {
    health: () => get<{ status: string; engineVersion: string }>("/api/health"),
    whoami: () => get<WhoAmI>("/api/whoami"),

    listWorkflows: (o: ListOptions = {}) => get<Page<WorkflowSummary>>(withQuery("/api/workflows", { ...o })),
    getWorkflow: (name: string) => get<WorkflowDetail>(`/api/workflows/${enc(name)}`),
    listVersions: (name: string, o: ListOptions = {}) =>
      get<Page<WorkflowVersion>>(withQuery(`/api/workflows/${enc(name)}/versions`, { ...o })),
    listWorkflowRuns: (name: string, o: ListOptions & { status?: string } = {}) =>
      get<Page<RunSummary>>(withQuery(`/api/workflows/${enc(name)}/runs`, { ...o })),
    triggerWorkflow: (name: string, parameters: Record<string, unknown>, idempotencyKey?: string) =>
      post<TriggerResult>(
        `/api/workflows/${enc(name)}/trigger`,
        { parameters },
        idempotencyKey ? { "idempotency-key": idempotencyKey } : undefined,
      ),

    listRuns: (o: ListOptions & { workflow?: string; status?: string; jobRunId?: string } = {}) =>
      get<Page<RunSummary>>(withQuery("/api/runs", { ...o })),
    getRun: (runId: string) => get<Run>(`/api/runs/${enc(runId)}`),
    getTasks: async (runId: string): Promise<TaskRecord[]> => {
      // The contract does not say whether the task list is paginated; accept both shapes.
      const body = await get<TaskRecord[] | Page<TaskRecord>>(`/api/runs/${enc(runId)}/tasks`);
      return Array.isArray(body) ? body : body.items;
    },
    getLogs: async (runId: string, node?: string): Promise<string> => {
      const res = await raw("GET", withQuery(`/api/runs/${enc(runId)}/logs`, { node }), undefined, {
        accept: "text/plain",
      });
      return res.text();
    },
    listFiles: (runId: string) => get<{ items: RunFile[] }>(`/api/runs/${enc(runId)}/files`),
    downloadFile: async (runId: string, path: string): Promise<Blob> => {
      const res = await raw("GET", `/api/runs/${enc(runId)}/files/${encPath(path)}`, undefined, { accept: "*/*" });
      return res.blob();
    },
    getLineage: (runId: string) => get<Lineage>(`/api/runs/${enc(runId)}/lineage`),
    verify: (runId: string) => get<VerifyResult>(`/api/runs/${enc(runId)}/verify`),
    getAudit: (runId: string) => get<{ items: AuditEvent[] }>(`/api/runs/${enc(runId)}/audit`),
    cancelRun: (runId: string, reason?: string) =>
      post<unknown>(`/api/runs/${enc(runId)}/cancel`, reason ? { reason } : {}),
    rerun: (runId: string) => post<TriggerResult>(`/api/runs/${enc(runId)}/rerun`),
    restartRun: (runId: string, body: { from?: string[]; definition?: "same" | "latest" } = {}) =>
      post<{ runId: string; rerun: string[]; reused: string[] }>(`/api/runs/${enc(runId)}/restart`, body),
    archiveWorkflow: (name: string) => raw("DELETE", `/api/workflows/${enc(name)}`).then(() => undefined),
    decide: (runId: string, nodeId: string, decision: "approve" | "reject", comment?: string) =>
      post<unknown>(`/api/runs/${enc(runId)}/approvals/${enc(nodeId)}`, {
        decision,
        ...(comment ? { comment } : {}),
      }),
    submitInput: (runId: string, nodeId: string, values: Record<string, unknown>) =>
      post<unknown>(`/api/runs/${enc(runId)}/inputs/${enc(nodeId)}`, { values }),
    listApprovals: (o: ListOptions & { status?: string } = {}) =>
      get<Page<PendingHumanStep>>(withQuery("/api/approvals", { status: "pending", ...o })),

    compareRuns: (runId: string, otherRunId: string) =>
      get<RunComparison>(`/api/runs/${enc(runId)}/compare/${enc(otherRunId)}`),
    /** The run's evidence bundle (a gzipped tar) at once, fetched with the key; runs of up to 32 MiB only. */
    exportRun: async (runId: string): Promise<Blob> => {
      const res = await raw("GET", `/api/runs/${enc(runId)}/export`, undefined, { accept: "application/gzip" });
      return res.blob();
    },
    /** Starts building the run's evidence bundle on the server (any size); poll it with exportStatus. */
    startExport: (runId: string) => post<ExportStatus>(`/api/runs/${enc(runId)}/exports`),
    exportStatus: (runId: string, exportId: string) =>
      get<ExportStatus>(`/api/runs/${enc(runId)}/exports/${enc(exportId)}`),
    /** A ready export's bytes through the API, with the key (where storage hands out no presigned URL). */
    exportedBundle: async (runId: string, exportId: string): Promise<Blob> => {
      const res = await raw("GET", `/api/runs/${enc(runId)}/exports/${enc(exportId)}/bundle`, undefined, {
        accept: "application/gzip",
      });
      return res.blob();
    },

    listSchedules: (o: ListOptions = {}) => get<Page<Schedule>>(withQuery("/api/schedules", { ...o })),
    getSchedule: (name: string) => get<Schedule>(`/api/schedules/${enc(name)}`),
    putSchedule: (name: string, body: ScheduleRequest) => put<Schedule>(`/api/schedules/${enc(name)}`, body),
    deleteSchedule: (name: string) => del(`/api/schedules/${enc(name)}`),

    listWebhooks: (workflow: string, o: ListOptions = {}) =>
      get<Page<Webhook>>(withQuery(`/api/workflows/${enc(workflow)}/webhooks`, { ...o })),
    createWebhook: (workflow: string, description?: string) =>
      post<WebhookCreated>(`/api/workflows/${enc(workflow)}/webhooks`, description ? { description } : {}),
    revokeWebhook: (workflow: string, webhookId: string) =>
      del(`/api/workflows/${enc(workflow)}/webhooks/${enc(webhookId)}`),

    listSubscriptions: (o: ListOptions = {}) => get<Page<Subscription>>(withQuery("/api/subscriptions", { ...o })),
    putSubscription: (name: string, body: { url: string; events: string[]; secret?: string }) =>
      put<SubscriptionSaved>(`/api/subscriptions/${enc(name)}`, body),
    deleteSubscription: (name: string) => del(`/api/subscriptions/${enc(name)}`),
    listDeliveries: (name: string, o: ListOptions = {}) =>
      get<Page<Delivery>>(withQuery(`/api/subscriptions/${enc(name)}/deliveries`, { ...o })),
    redeliver: (name: string, deliveryId: string) =>
      post<Delivery>(`/api/subscriptions/${enc(name)}/deliveries/${enc(deliveryId)}/redeliver`),

    listKeys: (o: ListOptions = {}) => get<Page<ApiKey>>(withQuery("/api/keys", { ...o })),
    createKey: (name: string, role: ApiKey["role"]) => post<KeyCreated>("/api/keys", { name, role }),
    revokeKey: (keyId: string) => del(`/api/keys/${enc(keyId)}`),

    listJobs: (o: ListOptions = {}) => get<Page<JobSummary>>(withQuery("/api/jobs", { ...o })),
    startJob: (name: string, parameters?: Record<string, unknown>) =>
      post<{ jobRunId: string; status: string }>(`/api/jobs/${enc(name)}/runs`, parameters ? { parameters } : {}),
    listJobRuns: (o: ListOptions & { job?: string; status?: string } = {}) =>
      get<Page<JobRunSummary>>(withQuery("/api/job-runs", { ...o })),
    getJobRun: (jobRunId: string) => get<JobRun>(`/api/job-runs/${enc(jobRunId)}`),
    cancelJobRun: (jobRunId: string) => post<unknown>(`/api/job-runs/${enc(jobRunId)}/cancel`),

    /**
     * The definition a run was started from. GET /api/workflows/{name} returns the latest version, which
     * is only right when the hash matches; otherwise the versions list is searched for that hash.
     */
    getDefinitionFor: async (name: string, definitionHash: string): Promise<WorkflowDefinition | null> => {
      const latest = await get<WorkflowDetail>(`/api/workflows/${enc(name)}`);
      if (latest.definitionHash === definitionHash) return latest.definition;
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const versions: Page<WorkflowVersion> = await get<Page<WorkflowVersion>>(
          withQuery(`/api/workflows/${enc(name)}/versions`, { limit: 100, cursor }),
        );
        const match = versions.items.find((v) => v.definitionHash === definitionHash);
        if (match?.definition) return match.definition;
        if (match) {
          const byVersion = await get<WorkflowDetail>(
            withQuery(`/api/workflows/${enc(name)}`, { version: match.version }),
          ).catch(() => null);
          if (byVersion?.definitionHash === definitionHash) return byVersion.definition;
          return null;
        }
        cursor = versions.nextCursor;
        if (!cursor) break;
      }
      return null;
    },
  };
}

async function toApiError(res: Response, onUnauthorized?: () => void): Promise<ApiError> {
  if (res.status === 401) onUnauthorized?.();
  let code = "http_error";
  let message = `${res.status} ${res.statusText}`.trim();
  let details: ErrorDetail[] = [];
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; details?: unknown } };
    if (body?.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      if (Array.isArray(body.error.details)) details = body.error.details as ErrorDetail[];
    }
  } catch {
    // Not JSON (a proxy error page, say): the status line is the best message there is.
  }
  return new ApiError(res.status, code, message, details);
}
