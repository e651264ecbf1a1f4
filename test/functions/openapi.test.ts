import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorsOf, openApiDocument } from "../../functions/http/openapi-document.ts";
import type { SuccessStatus } from "../../functions/http/route.ts";
import { ROUTE_SPECS } from "../../functions/http/route-specs.ts";
import { ROUTES, type RouteKey, routeByKey } from "../../functions/http/routes/index.ts";
import { ErrorSchema } from "../../functions/http/schemas/schema-kit.ts";
import { Schedule, ScheduleState } from "../../functions/http/schemas/trigger-schemas.ts";
import { apiTypesText, documentText, GENERATED, workflowJsonSchema } from "../../scripts/openapi.ts";
import { type ApiResult, type Json, startStack, type TestStack } from "../support/stack.ts";

type Operation = { responses: Record<string, Json>; requestBody?: Json };
const doc = openApiDocument(ROUTES) as Json;
const op = (method: string, path: string): Operation => doc.paths[path][method.toLowerCase()];
const statuses = (method: string, path: string) => Object.keys(op(method, path).responses);

describe("generated API documents", () => {
  it("docs/openapi.json and the clients' generated types are what the route definitions generate (run npm run docs)", async () => {
    const text = await readFile(GENERATED.document, "utf8");
    expect(text).toBe(documentText());
    expect(await readFile(GENERATED.apiTypes, "utf8")).toBe(await apiTypesText(text));
    const committed = JSON.parse(text);
    const operations = Object.values(committed.paths as Record<string, object>).flatMap((p) => Object.keys(p));
    expect(operations.length).toBe(ROUTE_SPECS.length);
  });

  it("docs/workflow.schema.json matches the definition schema", async () => {
    const committed = JSON.parse(await readFile("docs/workflow.schema.json", "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(workflowJsonSchema())));
    expect(committed.required).toEqual(expect.arrayContaining(["name", "nodes"]));
  });

  it("gives every operation a success response, its error responses and a default, all described", () => {
    for (const spec of ROUTE_SPECS) {
      const path = spec.path.replace("{path+}", "{path}");
      const responses = op(spec.method, path).responses;
      const codes = Object.keys(responses);
      expect(
        codes.some((c) => /^[23]\d\d$/.test(c)),
        `${spec.method} ${path}`,
      ).toBe(true);
      expect(codes).toContain("default");
      if (spec.access !== "public") expect(codes, `${spec.method} ${path}`).toContain("401");
      for (const [code, r] of Object.entries(responses)) {
        expect(r.description, `${spec.method} ${path} ${code}`).toMatch(/\w/);
        if (/^[45]\d\d$|^default$/.test(code))
          expect(r.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
      }
    }
  });

  it("documents the status codes the handlers answer", () => {
    expect(statuses("PUT", "/api/jobs/{name}")).toEqual(expect.arrayContaining(["200", "201", "400", "409", "413"]));
    expect(statuses("PUT", "/api/workflows/{name}")).toEqual(expect.arrayContaining(["200", "201", "400"]));
    expect(statuses("POST", "/api/workflows/{name}/trigger")).toEqual(expect.arrayContaining(["202", "400", "404"]));
    expect(statuses("POST", "/api/workflows/{name}/trigger")).not.toContain("200");
    expect(statuses("GET", "/api/runs/{runId}/files/{path}")).toEqual(expect.arrayContaining(["200", "302", "404"]));
    expect(statuses("GET", "/api/runs/{runId}/export")).toEqual(expect.arrayContaining(["200", "302"]));
    expect(statuses("POST", "/api/runs/{runId}/cancel")).toEqual(expect.arrayContaining(["202", "409"]));
    expect(statuses("POST", "/api/job-runs/{jobRunId}/cancel")).toEqual(expect.arrayContaining(["202", "409"]));
    expect(statuses("POST", "/api/keys")).toEqual(expect.arrayContaining(["201", "403"]));
    expect(statuses("DELETE", "/api/keys/{keyId}")).toEqual(expect.arrayContaining(["204", "404"]));
    expect(statuses("POST", "/hooks/{webhookId}")).toEqual(expect.arrayContaining(["202", "401", "404", "413"]));
    expect(statuses("GET", "/api/health")).toEqual(["200", "default"]);
    expect(op("POST", "/hooks/{webhookId}")).toMatchObject({ security: [] });
  });

  it("documents request bodies with the routes' schemas, and every $ref resolves", () => {
    const body = (method: string, path: string) => op(method, path).requestBody;
    expect(body("PUT", "/api/workflows/{name}")).toMatchObject({
      required: true,
      content: { "application/json": { schema: { $ref: "#/components/schemas/WorkflowDefinition" } } },
    });
    expect(body("PUT", "/api/jobs/{name}").required).toBe(true);
    expect(body("POST", "/api/workflows/{name}/trigger").required).toBe(false);
    expect(doc.components.schemas.ScheduleRequest.required).toEqual(["target", "cron"]);
    expect(doc.components.schemas.JobRequest.required).toEqual(["workflowExecutionOrder"]);
    expect(doc.components.schemas.VerifyReport.required).toEqual(
      expect.arrayContaining(["sealedRoot", "sealed", "checked", "eventsAfterSeal"]),
    );

    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      const [, group, name] = /#\/components\/(\w+)\/([\w-]+)/.exec(ref) ?? [];
      expect(doc.components[group as string]?.[name as string], ref).toBeDefined();
    }
  });
});

// The document checked against the running server: each answer's status is one it documents for the route, and its
// body is accepted by the documented schema (the shapes are also bound to the handlers' types at compile time).
describe("the document against the running server", () => {
  let s: TestStack;
  let approverKey: string;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** Calls the route and checks the answer against the route's documented success responses. */
  async function call(key: RouteKey, path: string, opts: Parameters<TestStack["api"]>[1] = {}): Promise<ApiResult> {
    const method = key.split(" ")[0] as string;
    const res = await s.api(path, { ...opts, method });
    const success = routeByKey(key)?.responses[res.status as SuccessStatus];
    expect(success, `${key} answered ${res.status}: ${res.text}`).toBeDefined();
    if (success?.schema) {
      const parsed = success.schema.safeParse(res.body);
      expect(parsed.success ? [] : parsed.error.issues, `${key} ${res.status}`).toEqual([]);
    }
    return res;
  }

  /** Calls the route expecting an error it documents, in the contract's error JSON. */
  async function fails(key: RouteKey, path: string, status: number, opts: Parameters<TestStack["api"]>[1] = {}) {
    const res = await s.api(path, { ...opts, method: key.split(" ")[0] });
    expect(res.status, res.text).toBe(status);
    const route = routeByKey(key);
    expect(route && Object.keys(errorsOf(route))).toContain(String(status));
    expect(ErrorSchema.safeParse(res.body).success, res.text).toBe(true);
  }

  const filesWf = {
    name: "doc-files",
    nodes: [{ id: "make", type: "command", command: "echo hi > out/report.txt && echo rows=3 > $STEPWISE_OUTPUT" }],
  };
  const gateWf = { name: "doc-gate", nodes: [{ id: "gate", type: "approval" }] };
  const askWf = { name: "doc-ask", nodes: [{ id: "ask", type: "input", fields: { code: { type: "string" } } }] };

  it("access, keys, orgs and settings", async () => {
    await call("GET /api/health", "/api/health", { key: null });
    const served = await call("GET /api/openapi.json", "/api/openapi.json", { key: null });
    expect(served.body).toEqual(JSON.parse(await readFile(GENERATED.document, "utf8")));
    await call("GET /api/whoami", "/api/whoami");
    approverKey = (await call("POST /api/keys", "/api/keys", { body: { name: "alice", role: "approver" } })).body.key;
    const spare = await call("POST /api/keys", "/api/keys", { body: { name: "spare", role: "viewer" } });
    expect(spare.status).toBe(201);
    await call("GET /api/keys", "/api/keys");
    expect((await call("DELETE /api/keys/{keyId}", `/api/keys/${spare.body.keyId}`)).status).toBe(204);
    await call("POST /api/orgs", "/api/orgs", { body: { orgId: "doc-org" } });
    await fails("POST /api/orgs", "/api/orgs", 409, { body: { orgId: "doc-org" } });
    await call("GET /api/settings/retention", "/api/settings/retention");
    await call("PUT /api/settings/retention", "/api/settings/retention", { body: { days: 30 } });
  });

  it("workflows, runs and their evidence", async () => {
    expect((await call("PUT /api/workflows/{name}", "/api/workflows/doc-files", { body: filesWf })).status).toBe(201);
    expect((await call("PUT /api/workflows/{name}", "/api/workflows/doc-files", { body: filesWf })).status).toBe(200);
    await call("GET /api/workflows", "/api/workflows");
    await call("GET /api/workflows/{name}", "/api/workflows/doc-files");
    await call("GET /api/workflows/{name}/versions", "/api/workflows/doc-files/versions");
    await fails("POST /api/workflows/{name}/trigger", "/api/workflows/doc-files/trigger", 400, {
      body: { parameters: { nope: 1 } },
    });

    const first = await call("POST /api/workflows/{name}/trigger", "/api/workflows/doc-files/trigger", { body: {} });
    const run = await s.waitForSealed(first.body.runId);
    const byHash = await call(
      "POST /api/workflows/by-hash/{definitionHash}/trigger",
      `/api/workflows/by-hash/${run.workflow.definitionHash}/trigger`,
      { body: {} },
    );
    const second = await call("POST /api/runs", "/api/runs", { body: { workflow: "doc-files" } });
    await s.waitForSealed(byHash.body.runId);
    await s.waitForSealed(second.body.runId);
    const id = run.runId;

    await call("GET /api/runs", "/api/runs?workflow=doc-files");
    await call("GET /api/workflows/{name}/runs", "/api/workflows/doc-files/runs");
    await call("GET /api/runs/{runId}", `/api/runs/${id}`);
    await call("GET /api/runs/{runId}/tasks", `/api/runs/${id}/tasks`);
    await call("GET /api/runs/{runId}/tasks/{nodeId}", `/api/runs/${id}/tasks/make`);
    const logs = await call("GET /api/runs/{runId}/logs", `/api/runs/${id}/logs`);
    expect(logs.headers.get("content-type")).toMatch(/^text\/plain/);
    const files = await call("GET /api/runs/{runId}/files", `/api/runs/${id}/files`);
    const file = await call("GET /api/runs/{runId}/files/{path+}", `/api/runs/${id}/files/report.txt`);
    expect(file.headers.get("x-stepwise-sha256")).toBe(files.body.items[0].sha256);
    await call("GET /api/runs/{runId}/lineage", `/api/runs/${id}/lineage`);
    await call("GET /api/runs/{runId}/verify", `/api/runs/${id}/verify`);
    const bundle = await call("GET /api/runs/{runId}/export", `/api/runs/${id}/export`);
    expect(bundle.headers.get("content-type")).toBe("application/gzip");
    await call("GET /api/runs/{runId}/compare/{otherRunId}", `/api/runs/${id}/compare/${second.body.runId}`);
    await call("GET /api/runs/{runId}/audit", `/api/runs/${id}/audit`);
    await call("GET /api/files/{sha256}/lineage", `/api/files/${files.body.items[0].sha256}/lineage`);
    await call("POST /api/runs/{runId}/rerun", `/api/runs/${id}/rerun`);
    await fails("GET /api/runs/{runId}", "/api/runs/run_01JAAAAAAAAAAAAAAAAAAAAAAA", 404);
    await fails("POST /api/runs/{runId}/cancel", `/api/runs/${id}/cancel`, 409, { body: {} });
  });

  it("human steps", async () => {
    await call("PUT /api/workflows/{name}", "/api/workflows/doc-gate", { body: gateWf });
    await call("PUT /api/workflows/{name}", "/api/workflows/doc-ask", { body: askWf });
    const gate = (await call("POST /api/runs", "/api/runs", { body: { workflow: "doc-gate" } })).body.runId;
    const held = (await call("POST /api/runs", "/api/runs", { body: { workflow: "doc-gate" } })).body.runId;
    const ask = (await call("POST /api/runs", "/api/runs", { body: { workflow: "doc-ask" } })).body.runId;
    await s.waitForRun(gate, ["awaiting_approval"]);
    await s.waitForRun(held, ["awaiting_approval"]);
    await s.waitForRun(ask, ["awaiting_input"]);

    const inbox = await call("GET /api/approvals", "/api/approvals?status=pending");
    expect(new Set(inbox.body.items.map((i: Json) => i.type))).toEqual(new Set(["approval", "input"]));
    await call("POST /api/runs/{runId}/approvals/{nodeId}", `/api/runs/${gate}/approvals/gate`, {
      body: { decision: "approve" },
      key: approverKey,
    });
    await call("POST /api/runs/{runId}/inputs/{nodeId}", `/api/runs/${ask}/inputs/ask`, {
      body: { values: { code: "42" } },
      key: approverKey,
    });
    await call("POST /api/runs/{runId}/cancel", `/api/runs/${held}/cancel`, { body: { reason: "docs" } });
  });

  it("jobs and job runs", async () => {
    const job = { workflowExecutionOrder: ["doc-files"] };
    expect((await call("PUT /api/jobs/{name}", "/api/jobs/doc-job", { body: job })).status).toBe(201);
    expect((await call("PUT /api/jobs/{name}", "/api/jobs/doc-job", { body: job })).status).toBe(200);
    await call("GET /api/jobs", "/api/jobs");
    await call("GET /api/jobs/{name}", "/api/jobs/doc-job");
    const started = await call("POST /api/jobs/{name}/runs", "/api/jobs/doc-job/runs", { body: {} });
    const jobRunId = started.body.jobRunId;
    await s.waitFor("the job run to complete", async () => {
      const jr = await call("GET /api/job-runs/{jobRunId}", `/api/job-runs/${jobRunId}`);
      return jr.body.status === "completed";
    });
    await call("GET /api/job-runs", "/api/job-runs?job=doc-job");
    await fails("POST /api/job-runs/{jobRunId}/cancel", `/api/job-runs/${jobRunId}/cancel`, 409, { body: {} });
  });

  it("schedules, subscriptions and webhooks", async () => {
    const schedule = { target: { workflow: "doc-files" }, cron: "0 9 * * MON", enabled: false };
    const put = await call("PUT /api/schedules/{name}", "/api/schedules/doc-sched", { body: schedule });
    expect(put.status).toBe(201);
    // Schedules answer an untyped view: its keys are checked here, not by tsc.
    expect(Object.keys(put.body).sort()).toEqual(Object.keys(Schedule.shape).sort());
    expect((await call("PUT /api/schedules/{name}", "/api/schedules/doc-sched", { body: schedule })).status).toBe(200);
    await call("GET /api/schedules", "/api/schedules");
    const one = await call("GET /api/schedules/{name}", "/api/schedules/doc-sched");
    expect(Object.keys(one.body).sort()).toEqual(Object.keys(ScheduleState.shape).sort());
    await call("DELETE /api/schedules/{name}", "/api/schedules/doc-sched");

    const sub = { url: "http://127.0.0.1:9/hook", events: ["job_run.failed"] };
    const created = await call("PUT /api/subscriptions/{name}", "/api/subscriptions/doc-sub", { body: sub });
    expect([created.status, typeof created.body.secret]).toEqual([201, "string"]);
    const updated = await call("PUT /api/subscriptions/{name}", "/api/subscriptions/doc-sub", { body: sub });
    expect([updated.status, updated.body.secret]).toEqual([200, undefined]);
    await call("GET /api/subscriptions", "/api/subscriptions");
    await call("GET /api/subscriptions/{name}/deliveries", "/api/subscriptions/doc-sub/deliveries");
    await call("DELETE /api/subscriptions/{name}", "/api/subscriptions/doc-sub");

    const hook = await call("POST /api/workflows/{name}/webhooks", "/api/workflows/doc-files/webhooks", { body: {} });
    await call("GET /api/workflows/{name}/webhooks", "/api/workflows/doc-files/webhooks");
    const raw = "{}";
    const signature = `sha256=${createHmac("sha256", hook.body.secret).update(raw).digest("hex")}`;
    await call("POST /hooks/{webhookId}", hook.body.url, {
      key: null,
      raw,
      headers: { "x-hub-signature-256": signature, "x-github-delivery": "doc-delivery-1" },
    });
    await fails("POST /hooks/{webhookId}", hook.body.url, 401, { key: null, raw, headers: {} });
    await call(
      "DELETE /api/workflows/{name}/webhooks/{webhookId}",
      `/api/workflows/doc-files/webhooks/${hook.body.webhookId}`,
    );
  });
});
