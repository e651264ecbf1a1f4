import type { Role } from "../../shared/domain/records.ts";

/** What a route needs: "public" (no key), "platform" (the bootstrap key), or the weakest role allowed. */
export type Access = "public" | "platform" | "signed" | Role;

export interface RouteSpec {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  access: Access;
}

/** Every contract route; the CDK stack creates one HTTP API route for each. */
export const ROUTE_SPECS = [
  { method: "GET", path: "/api/health", access: "public" },
  { method: "POST", path: "/api/orgs", access: "platform" },
  { method: "POST", path: "/api/keys", access: "admin" },
  { method: "GET", path: "/api/keys", access: "admin" },
  { method: "DELETE", path: "/api/keys/{keyId}", access: "admin" },
  { method: "GET", path: "/api/whoami", access: "viewer" },
  { method: "PUT", path: "/api/settings/retention", access: "admin" },
  { method: "GET", path: "/api/settings/retention", access: "viewer" },

  { method: "GET", path: "/api/workflows", access: "viewer" },
  { method: "PUT", path: "/api/workflows/{name}", access: "operator" },
  { method: "GET", path: "/api/workflows/{name}", access: "viewer" },
  { method: "DELETE", path: "/api/workflows/{name}", access: "operator" },
  { method: "GET", path: "/api/workflows/{name}/versions", access: "viewer" },
  { method: "GET", path: "/api/workflows/{name}/runs", access: "viewer" },
  { method: "POST", path: "/api/workflows/{name}/trigger", access: "operator" },
  { method: "POST", path: "/api/workflows/by-hash/{definitionHash}/trigger", access: "operator" },
  { method: "POST", path: "/api/workflows/{name}/webhooks", access: "operator" },
  { method: "GET", path: "/api/workflows/{name}/webhooks", access: "viewer" },
  { method: "DELETE", path: "/api/workflows/{name}/webhooks/{webhookId}", access: "operator" },

  { method: "POST", path: "/api/runs", access: "operator" },
  { method: "GET", path: "/api/runs", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/tasks", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/tasks/{nodeId}", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/logs", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/files", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/files/{path+}", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/lineage", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/verify", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/export", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/compare/{otherRunId}", access: "viewer" },
  { method: "GET", path: "/api/runs/{runId}/audit", access: "viewer" },
  { method: "POST", path: "/api/runs/{runId}/cancel", access: "operator" },
  { method: "POST", path: "/api/runs/{runId}/rerun", access: "operator" },
  { method: "POST", path: "/api/runs/{runId}/restart", access: "operator" },
  { method: "POST", path: "/api/runs/{runId}/approvals/{nodeId}", access: "approver" },
  { method: "POST", path: "/api/runs/{runId}/inputs/{nodeId}", access: "viewer" },
  { method: "GET", path: "/api/approvals", access: "viewer" },
  { method: "GET", path: "/api/files/{sha256}/lineage", access: "viewer" },

  { method: "PUT", path: "/api/jobs/{name}", access: "operator" },
  { method: "GET", path: "/api/jobs", access: "viewer" },
  { method: "GET", path: "/api/jobs/{name}", access: "viewer" },
  { method: "DELETE", path: "/api/jobs/{name}", access: "operator" },
  { method: "POST", path: "/api/jobs/{name}/runs", access: "operator" },
  { method: "GET", path: "/api/job-runs", access: "viewer" },
  { method: "GET", path: "/api/job-runs/{jobRunId}", access: "viewer" },
  { method: "POST", path: "/api/job-runs/{jobRunId}/cancel", access: "operator" },

  { method: "PUT", path: "/api/schedules/{name}", access: "operator" },
  { method: "GET", path: "/api/schedules", access: "viewer" },
  { method: "GET", path: "/api/schedules/{name}", access: "viewer" },
  { method: "DELETE", path: "/api/schedules/{name}", access: "operator" },
  { method: "PUT", path: "/api/subscriptions/{name}", access: "admin" },
  { method: "GET", path: "/api/subscriptions", access: "viewer" },
  { method: "DELETE", path: "/api/subscriptions/{name}", access: "admin" },
  { method: "GET", path: "/api/subscriptions/{name}/deliveries", access: "viewer" },
  { method: "POST", path: "/api/subscriptions/{name}/deliveries/{id}/redeliver", access: "admin" },

  { method: "POST", path: "/hooks/{webhookId}", access: "signed" },
] as const satisfies readonly RouteSpec[];

export type RouteKey = `${(typeof ROUTE_SPECS)[number]["method"]} ${(typeof ROUTE_SPECS)[number]["path"]}`;
