import { describe, expect, it, vi } from "vitest";
import { ApiError, createApiClient, type FetchLike, withQuery } from "../../dashboard/src/api.ts";

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(respond: (url: string, init?: RequestInit) => Response): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      calls.push({ url, init });
      return respond(url, init);
    },
  };
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("withQuery", () => {
  it("leaves out empty filters", () => {
    expect(withQuery("/api/runs", { status: "", cursor: null, limit: 20, workflow: undefined })).toBe(
      "/api/runs?limit=20",
    );
    expect(withQuery("/api/runs")).toBe("/api/runs");
  });
});

describe("the API client", () => {
  it("sends the key as a bearer token and never cookies", async () => {
    const f = fakeFetch(() => json({ orgId: "default", keyId: "key_1", role: "viewer", userId: "v" }));
    const api = createApiClient({ key: "secret-key", fetch: f.fetch, baseUrl: "http://x" });
    await expect(api.whoami()).resolves.toMatchObject({ role: "viewer" });
    const headers = f.calls[0]?.init?.headers as Record<string, string>;
    expect(f.calls[0]?.url).toBe("http://x/api/whoami");
    expect(headers.authorization).toBe("Bearer secret-key");
    expect(f.calls[0]?.init?.credentials).toBe("omit");
  });

  it("posts JSON bodies and the idempotency key on trigger", async () => {
    const f = fakeFetch(() =>
      json({ runId: "run_1", status: "queued", workflow: { name: "w", version: 1, definitionHash: "h" } }, 202),
    );
    const api = createApiClient({ key: "k", fetch: f.fetch });
    await api.triggerWorkflow("my wf", { day: "x" }, "idem-1");
    const call = f.calls[0];
    expect(call?.url).toBe("/api/workflows/my%20wf/trigger");
    expect(call?.init?.method).toBe("POST");
    expect(JSON.parse(String(call?.init?.body))).toEqual({ parameters: { day: "x" } });
    const headers = (call?.init?.headers ?? {}) as Record<string, string>;
    expect(headers["idempotency-key"]).toBe("idem-1");
  });

  it("turns the contract's error JSON into an ApiError with its details", async () => {
    const f = fakeFetch(() =>
      json(
        {
          error: {
            code: "validation_failed",
            message: "values do not match",
            details: [{ path: "values.code", message: "must match" }],
          },
        },
        400,
      ),
    );
    const api = createApiClient({ key: "k", fetch: f.fetch });
    const err = await api.submitInput("run_1", "otp", { code: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: "validation_failed", message: "values do not match" });
    expect((err as ApiError).details).toEqual([{ path: "values.code", message: "must match" }]);
  });

  it("calls onUnauthorized on a 401 so the app can return to sign-in", async () => {
    const onUnauthorized = vi.fn();
    const f = fakeFetch(() => json({ error: { code: "unauthorized", message: "unknown key" } }, 401));
    const api = createApiClient({ key: "k", fetch: f.fetch, onUnauthorized });
    await expect(api.listRuns()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it("reports a non-JSON error and a network failure plainly", async () => {
    const api = createApiClient({
      key: "k",
      fetch: async () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
    });
    await expect(api.listRuns()).rejects.toMatchObject({ status: 502, message: "502 Bad Gateway" });
    const offline = createApiClient({
      key: "k",
      fetch: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    await expect(offline.listRuns()).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("reads logs as text with the node filter, and file paths keep their slashes", async () => {
    const f = fakeFetch((url) => new Response(url.includes("/logs") ? "extract | hi\n" : "bytes"));
    const api = createApiClient({ key: "k", fetch: f.fetch });
    await expect(api.getLogs("run_1", "extract")).resolves.toBe("extract | hi\n");
    await api.downloadFile("run_1", "reports/day 1.txt");
    expect(f.calls.map((c) => c.url)).toEqual([
      "/api/runs/run_1/logs?node=extract",
      "/api/runs/run_1/files/reports/day%201.txt",
    ]);
  });

  it("accepts the task list as an array or a page", async () => {
    const tasks = [{ nodeId: "a" }];
    const asArray = createApiClient({ key: "k", fetch: async () => json(tasks) });
    const asPage = createApiClient({ key: "k", fetch: async () => json({ items: tasks, nextCursor: null }) });
    await expect(asArray.getTasks("run_1")).resolves.toEqual(tasks);
    await expect(asPage.getTasks("run_1")).resolves.toEqual(tasks);
  });

  it("finds the definition a run used, even when the workflow has changed since", async () => {
    const v1 = { name: "w", nodes: [{ id: "old", type: "script" }] };
    const f = fakeFetch((url) => {
      if (url === "/api/workflows/w")
        return json({ name: "w", version: 2, definitionHash: "sha256:b", definition: { name: "w", nodes: [] } });
      if (url.startsWith("/api/workflows/w/versions"))
        return json({
          items: [
            { version: 2, definitionHash: "sha256:b" },
            { version: 1, definitionHash: "sha256:a", definition: v1 },
          ],
          nextCursor: null,
        });
      return json({ error: { code: "not_found", message: "no" } }, 404);
    });
    const api = createApiClient({ key: "k", fetch: f.fetch });
    await expect(api.getDefinitionFor("w", "sha256:a")).resolves.toEqual(v1);
    await expect(api.getDefinitionFor("w", "sha256:zzz")).resolves.toBeNull();
  });

  it("reaches the settings routes with the right method, path and body", async () => {
    const f = fakeFetch((_url, init) => (init?.method === "DELETE" ? new Response(null, { status: 204 }) : json({})));
    const api = createApiClient({ key: "k", fetch: f.fetch });
    await api.putSchedule("every day", { target: { workflow: "w" }, cron: "0 9 * * *", enabled: false });
    await api.revokeWebhook("w", "wh_1");
    await api.redeliver("ops/alerts", "dlv_1");
    await api.createKey("ci", "operator");
    await api.revokeKey("key_1");
    await api.compareRuns("run_a", "run_b");
    expect(f.calls.map((c) => `${c.init?.method} ${c.url}`)).toEqual([
      "PUT /api/schedules/every%20day",
      "DELETE /api/workflows/w/webhooks/wh_1",
      "POST /api/subscriptions/ops%2Falerts/deliveries/dlv_1/redeliver",
      "POST /api/keys",
      "DELETE /api/keys/key_1",
      "GET /api/runs/run_a/compare/run_b",
    ]);
    expect(JSON.parse(String(f.calls[0]?.init?.body))).toEqual({
      target: { workflow: "w" },
      cron: "0 9 * * *",
      enabled: false,
    });
    expect(JSON.parse(String(f.calls[3]?.init?.body))).toEqual({ name: "ci", role: "operator" });
  });

  it("starts an asynchronous export, polls it and fetches the ready bundle with the key", async () => {
    const status = { exportId: "exp_1", runId: "run_1", status: "ready", url: null };
    const f = fakeFetch((url) =>
      url.endsWith("/bundle")
        ? new Response(new Uint8Array([31, 139]), { headers: { "content-type": "application/gzip" } })
        : Response.json(status, { status: url.endsWith("/exports") ? 202 : 200 }),
    );
    const api = createApiClient({ key: "k", fetch: f.fetch });
    expect((await api.startExport("run_1")).exportId).toBe("exp_1");
    expect((await api.exportStatus("run_1", "exp_1")).status).toBe("ready");
    const blob = await api.exportedBundle("run_1", "exp_1");
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array([31, 139]));
    expect(f.calls.map((c) => `${c.init?.method} ${c.url}`)).toEqual([
      "POST /api/runs/run_1/exports",
      "GET /api/runs/run_1/exports/exp_1",
      "GET /api/runs/run_1/exports/exp_1/bundle",
    ]);
  });

  it("fetches a run's bundle as bytes with the key", async () => {
    const f = fakeFetch(
      () => new Response(new Uint8Array([31, 139, 8]), { headers: { "content-type": "application/gzip" } }),
    );
    const api = createApiClient({ key: "k", fetch: f.fetch });
    const blob = await api.exportRun("run_1");
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array([31, 139, 8]));
    expect(f.calls[0]?.url).toBe("/api/runs/run_1/export");
    const headers = (f.calls[0]?.init?.headers ?? {}) as Record<string, string>;
    expect(headers.authorization).toBe("Bearer k");
  });
});
