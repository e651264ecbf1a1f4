import { describe, expect, it } from "vitest";
import { formatRoute, parseRoute, type Route } from "../../dashboard/src/router.ts";

describe("hash routes", () => {
  it.each<[string, Route]>([
    ["", { page: "workflows" }],
    ["#/", { page: "workflows" }],
    ["#/workflows", { page: "workflows" }],
    ["#/workflows/nightly-report", { page: "workflow", name: "nightly-report", tab: "overview" }],
    [
      "#/workflows/nightly-report/runs?status=failed",
      { page: "workflow", name: "nightly-report", tab: "runs", status: "failed" },
    ],
    ["#/runs", { page: "runs" }],
    ["#/runs?status=running&workflow=x", { page: "runs", status: "running", workflow: "x" }],
    ["#/runs/run_01ABC", { page: "run", runId: "run_01ABC", tab: "overview" }],
    ["#/runs/run_01ABC/logs?node=extract", { page: "run", runId: "run_01ABC", tab: "logs", node: "extract" }],
    ["#/approvals", { page: "approvals" }],
    ["#/job-runs", { page: "job-runs" }],
    ["#/job-runs/jr_01", { page: "job-run", jobRunId: "jr_01" }],
    ["#/schedules", { page: "schedules" }],
    ["#/schedules/nightly", { page: "schedule", name: "nightly" }],
    ["#/subscriptions", { page: "subscriptions" }],
    ["#/subscriptions/ops", { page: "subscription", name: "ops" }],
    ["#/keys", { page: "keys" }],
    ["#/workflows/wf/definition", { page: "workflow", name: "wf", tab: "definition" }],
    ["#/runs/run_1/compare?with=run_2", { page: "run", runId: "run_1", tab: "compare", with: "run_2" }],
    ["#/nope", { page: "not-found", path: "/nope" }],
  ])("%s", (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it("formats routes that parse back to themselves", () => {
    const routes: Route[] = [
      { page: "workflows" },
      { page: "workflow", name: "a b/c", tab: "trigger" },
      { page: "workflow", name: "wf", tab: "runs", status: "awaiting_input" },
      { page: "runs", status: "failed" },
      { page: "run", runId: "run_1", tab: "overview", node: "sign-off" },
      { page: "run", runId: "run_1", tab: "audit" },
      { page: "approvals" },
      { page: "job-runs", status: "completed" },
      { page: "job-run", jobRunId: "jr_1" },
      { page: "schedule", name: "every day" },
      { page: "subscription", name: "ops/alerts" },
      { page: "keys" },
      { page: "workflow", name: "wf", tab: "webhooks" },
      { page: "run", runId: "run_1", tab: "compare", with: "run_2" },
    ];
    for (const r of routes) expect(parseRoute(formatRoute(r))).toEqual(r);
  });

  it("falls back to the overview for an unknown tab", () => {
    expect(parseRoute("#/runs/run_1/bogus")).toEqual({ page: "run", runId: "run_1", tab: "overview" });
  });
});
