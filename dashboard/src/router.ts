// Hash routes, so that every page has a URL that can be shared and the server only ever serves index.html.
// Query parameters after the route carry what a person would want to share too: a tab, a filter, a node.

export type RunTab = "overview" | "logs" | "context" | "files" | "audit" | "lineage" | "compare";
export const RUN_TABS: readonly RunTab[] = ["overview", "logs", "context", "files", "audit", "lineage", "compare"];
export type WorkflowTab = "overview" | "runs" | "versions" | "definition" | "webhooks" | "trigger";
export const WORKFLOW_TABS: readonly WorkflowTab[] = [
  "overview",
  "runs",
  "versions",
  "definition",
  "webhooks",
  "trigger",
];

export type Route =
  | { page: "workflows" }
  | { page: "workflow"; name: string; tab: WorkflowTab; status?: string }
  | { page: "runs"; status?: string; workflow?: string }
  | { page: "run"; runId: string; tab: RunTab; node?: string; with?: string }
  | { page: "approvals" }
  | { page: "job-runs"; status?: string; job?: string }
  | { page: "job-run"; jobRunId: string }
  | { page: "schedules" }
  | { page: "schedule"; name: string }
  | { page: "subscriptions" }
  | { page: "subscription"; name: string }
  | { page: "keys" }
  | { page: "not-found"; path: string };

/** Reads a route from `location.hash` ("#/runs/run_01…?tab=logs&node=extract"). */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const [pathPart = "", queryPart = ""] = raw.split("?", 2);
  const q = new URLSearchParams(queryPart);
  const opt = (k: string): string | undefined => q.get(k) || undefined;
  const parts = pathPart
    .split("/")
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const [head, id, extra] = parts;

  if (!head || head === "workflows") {
    if (!id) return { page: "workflows" };
    const tab = (WORKFLOW_TABS as string[]).includes(extra ?? "") ? (extra as WorkflowTab) : "overview";
    return withOptional({ page: "workflow", name: id, tab }, { status: opt("status") });
  }
  if (head === "runs") {
    if (!id) return withOptional({ page: "runs" }, { status: opt("status"), workflow: opt("workflow") });
    const tab = (RUN_TABS as string[]).includes(extra ?? "") ? (extra as RunTab) : "overview";
    return withOptional({ page: "run", runId: id, tab }, { node: opt("node"), with: opt("with") });
  }
  if (head === "approvals") return { page: "approvals" };
  if (head === "schedules") return id ? { page: "schedule", name: id } : { page: "schedules" };
  if (head === "subscriptions") return id ? { page: "subscription", name: id } : { page: "subscriptions" };
  if (head === "keys") return { page: "keys" };
  if (head === "job-runs" || head === "jobs") {
    if (!id) return withOptional({ page: "job-runs" }, { status: opt("status"), job: opt("job") });
    return { page: "job-run", jobRunId: id };
  }
  return { page: "not-found", path: `/${pathPart.replace(/^\//, "")}` };
}

/** The hash for a route; the inverse of parseRoute. */
export function formatRoute(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case "workflows":
      return "#/workflows";
    case "workflow":
      return `#/workflows/${e(route.name)}${route.tab === "overview" ? "" : `/${route.tab}`}${query({ status: route.status })}`;
    case "runs":
      return `#/runs${query({ status: route.status, workflow: route.workflow })}`;
    case "run":
      return `#/runs/${e(route.runId)}${route.tab === "overview" ? "" : `/${route.tab}`}${query({ node: route.node, with: route.with })}`;
    case "approvals":
      return "#/approvals";
    case "job-runs":
      return `#/job-runs${query({ status: route.status, job: route.job })}`;
    case "job-run":
      return `#/job-runs/${e(route.jobRunId)}`;
    case "schedules":
      return "#/schedules";
    case "schedule":
      return `#/schedules/${e(route.name)}`;
    case "subscriptions":
      return "#/subscriptions";
    case "subscription":
      return `#/subscriptions/${e(route.name)}`;
    case "keys":
      return "#/keys";
    case "not-found":
      return `#${route.path}`;
  }
}

function query(values: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

// exactOptionalPropertyTypes-friendly: optional keys are left out instead of set to undefined.
function withOptional<T extends object>(base: T, extra: Record<string, string | undefined>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out as T;
}
