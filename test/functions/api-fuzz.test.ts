// Property: whatever a careless client or an attacker sends to any route, the service answers below 500, and every
// 4xx carries the contract's error JSON. Requests are generated with fast-check over EVERY route definition (its
// method or another, its path parameters valid or broken, junk queries and cursors, junk bodies and content types)
// and sent over HTTP to a live embedded stack. Bounded so that it runs in CI: FUZZ_RUNS requests in one property.

import { request } from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeApiHandler } from "../../functions/http/api-handler.ts";
import type { AnyRoute } from "../../functions/http/route.ts";
import { ROUTES } from "../../functions/http/routes/index.ts";
import { ErrorSchema } from "../../functions/http/schemas/schema-kit.ts";
import { lambdaContext } from "../../local/lambda-context.ts";
import { PLATFORM_KEY, startStack, type TestStack } from "../support/stack.ts";

const FUZZ_RUNS = 1500;
const ERROR_CODES = new Set([
  "validation_failed",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "rate_limited",
]);

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** One raw HTTP request (fetch would normalise the path and refuse bodies on GET). */
function send(base: URL, r: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // Framed by content-length: Node sends a GET or DELETE body unframed otherwise.
    const headers =
      r.body === undefined ? r.headers : { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) };
    const req = request({ host: base.hostname, port: base.port, method: r.method, path: r.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(r.body);
  });
}

// ---- generators ---------------------------------------------------------------------------------------------------

/** Path segments as sent on the wire: valid fixtures, junk, malformed escapes, encoded lone surrogates, huge names. */
const segmentArb = (valid: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...valid).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "%ff",
        "%",
        "%e0%a4",
        "%ED%A0%80", // a lone surrogate (U+D800) in UTF-8 form: not valid UTF-8
        "%00",
        "%0a",
        "abc%zz",
        "%C0%AF",
        "..",
        "run_01JZZZZZZZZZZZZZZZZZZZZZZZ",
        "sha256:abc",
        "by-hash",
        encodeURIComponent("ünïcödé-名前"),
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }).map((n) => "a".repeat(n)) },
  );

const cursorArb = (issued: string[]) =>
  fc.oneof(
    fc.constant("eyJhIjoxfQ"),
    fc.constantFrom(...issued),
    fc.constantFrom(...issued).map((c) => `${c.slice(0, -2)}AA`),
    fc.base64String({ maxLength: 80 }),
    fc.string({ maxLength: 60 }),
    fc.constant(`${Buffer.from('{"pk":"ORG#other#RUNS","sk":"x"}').toString("base64url")}.AAAAAAAAAAAAAAAAAAAAAA`),
  );

const queryArb = (issued: string[]) =>
  fc
    .record(
      {
        limit: fc.oneof(fc.constantFrom("0", "1", "20", "100", "101", "-1", "abc", "", "1.5", "1e3", "9".repeat(30))),
        cursor: cursorArb(issued),
        status: fc.oneof(fc.constantFrom("pending", "running", "nope"), fc.string({ maxLength: 10 })),
        workflow: fc.oneof(fc.constant("fz"), fc.string({ maxLength: 300 })),
        junk: fc.string({ maxLength: 20 }),
      },
      { requiredKeys: [] },
    )
    .map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join("&"),
    );

const bodyArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.json({ maxDepth: 3 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '{"parameters":{"a":"\\ud800"}}',
      '{"description":"\\udc00x"}',
      '{"workflow":"fz","parameters":{"\\ud83d":1}}',
      '{"decision":"approve","comment":"\\ud800"}',
      '{"values":{"code":"\\udfff"}}',
      '{"name":"fz","nodes":[{"id":"a","type":"wait","seconds":1,"description":"\\ud800"}]}',
      "{",
      '{"a":',
      "[]",
      '"text"',
      "null",
      "12",
      '{"parameters":[]}',
      '{"workflow":"fz"}',
      '{"decision":"approve"}',
      '{"days":-5}',
      `{"x":"${"y".repeat(20_000)}"}`,
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
);

/** A valid body per route: the fuzzer breaks one leaf of it, so that the junk reaches the use case behind the schema. */
const TEMPLATES: Record<string, unknown> = {
  "POST /api/orgs": { orgId: "fzorg" },
  "POST /api/keys": { name: "k", role: "viewer" },
  "PUT /api/settings/retention": { days: 30, keepEvidence: true },
  "PUT /api/workflows/{name}": {
    name: "fz",
    description: "d",
    parameters: { a: { type: "string" } },
    nodes: [{ id: "gate", type: "approval" }],
  },
  "POST /api/workflows/{name}/trigger": { parameters: { a: "x" } },
  "POST /api/workflows/by-hash/{definitionHash}/trigger": { parameters: { a: "x" } },
  "POST /api/runs": { workflow: "fz", parameters: { a: "x" } },
  "POST /api/workflows/{name}/webhooks": { description: "d" },
  "POST /api/runs/{runId}/cancel": { reason: "r" },
  "POST /api/runs/{runId}/approvals/{nodeId}": { decision: "approve", comment: "c" },
  "POST /api/runs/{runId}/inputs/{nodeId}": { values: { code: "1" } },
  "PUT /api/jobs/{name}": { description: "d", workflowExecutionOrder: ["fz"], parameters: { fz: { a: "x" } } },
  "POST /api/jobs/{name}/runs": { parameters: { fz: { a: "x" } } },
  "POST /api/job-runs/{jobRunId}/cancel": { reason: "r" },
  "PUT /api/schedules/{name}": {
    target: { workflow: "fz" },
    cron: "0 9 * * MON",
    enabled: false,
    parameters: { a: "x" },
  },
  "PUT /api/subscriptions/{name}": { url: "http://127.0.0.1:9/h", events: ["run.failed"] },
  "POST /hooks/{webhookId}": { a: "x" },
};
const JUNK_LEAVES: unknown[] = ["\ud800", "x\udfff", "\u0000", "y".repeat(5000), 12, -1, null, {}, [], true, ""];

/** The template with its `at`-th leaf (modulo the number of leaves) replaced by `junk`. */
function breakLeaf(template: unknown, at: number, junk: unknown): unknown {
  const leaves: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (v: unknown) => {
    if (v && typeof v === "object")
      for (const [k, child] of Object.entries(v)) {
        leaves.push({ parent: v as Record<string, unknown>, key: Array.isArray(v) ? Number(k) : k });
        walk(child);
      }
  };
  const copy = structuredClone(template);
  walk(copy);
  const leaf = leaves[at % Math.max(1, leaves.length)];
  if (leaf) (leaf.parent as Record<string | number, unknown>)[leaf.key] = junk;
  return copy;
}

const contentTypeArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8") },
  fc.constantFrom("text/plain", "application/x-www-form-urlencoded", ""),
);

// ---- the property -------------------------------------------------------------------------------------------------

describe("fuzzing every route", () => {
  let s: TestStack;
  let base: URL;
  const valid: Record<string, string[]> = {};
  const issued: string[] = [];

  beforeAll(async () => {
    s = await startStack();
    base = new URL(s.url);
    // Fixtures so that generated requests also reach deep into the use cases: runs waiting on people, a job, a
    // schedule, a subscription with a delivery list, a webhook, a key, and cursors issued for lists.
    await s.putWorkflow({
      name: "fz",
      parameters: { a: { type: "string" } },
      nodes: [
        { id: "gate", type: "approval" },
        { id: "ask", type: "input", needs: ["gate"], fields: { code: { type: "string" } } },
      ],
    });
    const runs = [await s.trigger("fz"), await s.trigger("fz")];
    await s.json("/api/jobs/fzjob", { method: "PUT", body: { workflowExecutionOrder: ["fz"] }, expect: 201 });
    await s.json("/api/schedules/fzsched", {
      method: "PUT",
      body: { target: { workflow: "fz" }, cron: "0 9 * * MON", enabled: false },
      expect: 201,
    });
    await s.json("/api/subscriptions/fzsub", {
      method: "PUT",
      body: { url: "http://127.0.0.1:9/hook", events: ["run.failed"] },
      expect: 201,
    });
    const hook = await s.json("/api/workflows/fz/webhooks", { method: "POST", body: {}, expect: 201 });
    const key = await s.json("/api/keys", { method: "POST", body: { name: "fz", role: "viewer" }, expect: 201 });
    const run = await s.waitForRun(runs[0] as string, ["awaiting_approval"]);
    const page = await s.json("/api/runs?limit=1");
    issued.push(page.nextCursor);
    const other = await s.createOrg("fuzz-other");
    await s.putWorkflow({ name: "fz2", nodes: [{ id: "w", type: "wait", seconds: 1 }] }, other);
    await s.putWorkflow({ name: "fz3", nodes: [{ id: "w", type: "wait", seconds: 1 }] }, other);
    issued.push((await s.json("/api/workflows?limit=1", { key: other })).nextCursor);
    expect(issued.every((c) => typeof c === "string")).toBe(true);

    Object.assign(valid, {
      name: ["fz", "fzjob", "fzsched", "fzsub"],
      runId: runs,
      otherRunId: runs,
      nodeId: ["gate", "ask"],
      jobRunId: ["jr_01JZZZZZZZZZZZZZZZZZZZZZZZ"],
      keyId: [key.keyId],
      webhookId: [hook.webhookId],
      id: ["dlv_01JZZZZZZZZZZZZZZZZZZZZZZZ"],
      definitionHash: [run.workflow.definitionHash],
      sha256: [run.workflow.definitionHash, "0".repeat(64)],
      path: ["report.txt", "a/b/c.txt"],
    });
  }, 60_000);

  afterAll(async () => {
    await s?.stop();
  });

  const requestArb = () =>
    fc
      .record({
        route: fc.constantFrom<AnyRoute>(...ROUTES),
        // Mostly the route's own method; now and then another (a 404) or one no route has.
        otherMethod: fc.oneof(
          { weight: 6, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH") },
        ),
        segments: fc.array(segmentArb(["fz"]), { minLength: 4, maxLength: 4 }),
        useValid: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)), {
          minLength: 4,
          maxLength: 4,
        }),
        pick: fc.nat(),
        query: fc.option(queryArb(issued), { freq: 2 }),
        body: bodyArb,
        leaf: fc.nat(),
        junk: fc.constantFrom(...JUNK_LEAVES),
        bodyKind: fc.constantFrom("template-broken", "template-broken", "template", "junk"),
        contentType: contentTypeArb,
        key: fc.oneof(
          { weight: 8, arbitrary: fc.constant<string | null>(PLATFORM_KEY) },
          fc.constantFrom<string | null>(null, "not-a-key"),
        ),
      })
      .map((g): Sent => {
        let i = 0;
        const path = g.route.path.replace(/\{([A-Za-z0-9]+)\+?\}/g, (_m, name: string) => {
          const at = i++ % 4;
          const choices = valid[name] ?? ["x"];
          return g.useValid[at]
            ? encodeURIComponent(choices[g.pick % choices.length] as string)
            : (g.segments[at] as string);
        });
        const headers: Record<string, string> = {};
        if (g.key) headers.authorization = `Bearer ${g.key}`;
        // Reads mostly go without a body, as clients send them; now and then with one.
        const template = TEMPLATES[`${g.route.method} ${g.route.path}`];
        let body = g.route.method === "GET" && g.pick % 5 !== 0 ? undefined : g.body;
        if (template && g.bodyKind !== "junk")
          body = JSON.stringify(g.bodyKind === "template" ? template : breakLeaf(template, g.leaf, g.junk));
        if (body !== undefined && g.contentType) headers["content-type"] = g.contentType;
        return {
          method: g.otherMethod ?? g.route.method,
          path: g.query ? `${path}?${g.query}` : path,
          headers,
          body,
        };
      });

  it(`answers ${FUZZ_RUNS} generated requests without a 5xx, every 4xx in the error JSON`, async () => {
    const tally = { requests: 0, fiveXx: 0, byStatus: new Map<number, number>() };
    await fc.assert(
      fc.asyncProperty(requestArb(), async (r) => {
        const res = await send(base, r);
        tally.requests++;
        tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1);
        if (res.status >= 500) tally.fiveXx++;
        const what = `${r.method} ${r.path.slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.contentType, what).toMatch(/^application\/json/);
          const body = JSON.parse(res.text);
          expect(ErrorSchema.safeParse(body).success, res.text).toBe(true);
          expect(ERROR_CODES.has(body.error.code), res.text).toBe(true);
          expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
        }
      }),
      { numRuns: FUZZ_RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261203), endOnFailure: true },
    );
    console.log(
      `fuzz: ${tally.requests} requests, ${tally.fiveXx} answered 5xx; by status: ${JSON.stringify(Object.fromEntries([...tally.byStatus].sort((a, b) => a[0] - b[0])))}`,
    );
    expect(tally.requests).toBe(FUZZ_RUNS);
    expect(tally.fiveXx).toBe(0);
  }, 120_000);

  it("regressions: the inputs the outside probes answered with 500", async () => {
    const get = (path: string) =>
      send(base, { method: "GET", path, headers: { authorization: `Bearer ${PLATFORM_KEY}` } });
    const bad = async (res: Promise<Answer>, status: number, code: string, mention?: string) => {
      const a = await res;
      expect(a.status, a.text).toBe(status);
      const body = JSON.parse(a.text);
      expect(body.error.code).toBe(code);
      if (mention) expect(JSON.stringify(body.error)).toContain(mention);
    };
    await bad(get("/api/runs/%ff"), 400, "validation_failed", "runId");
    await bad(get("/api/runs/%ED%A0%80/tasks"), 400, "validation_failed", "runId");
    await bad(get("/api/runs?cursor=eyJhIjoxfQ"), 400, "validation_failed", "cursor");
    // A cursor issued to another org (for its workflow list) is refused on this org's lists.
    await bad(get(`/api/workflows?cursor=${issued[1]}`), 400, "validation_failed", "cursor");
    // A cursor issued for the run list is refused on another list.
    await bad(get(`/api/jobs?cursor=${issued[0]}`), 400, "validation_failed", "cursor");
    expect((await get(`/api/runs?limit=1&cursor=${issued[0]}`)).status).toBe(200);
    await bad(get(`/api/schedules/${"n".repeat(2500)}`), 400, "validation_failed", "name");
    await bad(
      send(base, {
        method: "DELETE",
        path: `/api/schedules/${"n".repeat(2500)}`,
        headers: { authorization: `Bearer ${PLATFORM_KEY}` },
      }),
      400,
      "validation_failed",
      "name",
    );
    const post = (path: string, body: string) =>
      send(base, {
        method: "POST",
        path,
        body,
        headers: { authorization: `Bearer ${PLATFORM_KEY}`, "content-type": "application/json" },
      });
    await bad(
      post("/api/workflows/fz/trigger", '{"parameters":{"a":"\\ud800"}}'),
      400,
      "validation_failed",
      "parameters.a",
    );
    await bad(post("/api/workflows/fz/webhooks", '{"description":"\\udc00"}'), 400, "validation_failed", "description");
    await bad(get("/api/nothing-here"), 404, "not_found");
    await bad(send(base, { method: "PATCH", path: "/api/runs", headers: {} }), 404, "not_found", "PATCH");
    const doc = await send(base, { method: "GET", path: "/api/openapi.json", headers: {} });
    expect([doc.status, JSON.parse(doc.text).openapi]).toEqual([200, "3.1.0"]);
  });

  it("the Lambda handler refuses a lone surrogate or a control character that API Gateway decoded into a path parameter", async () => {
    // API Gateway hands the handler decoded path parameters; they never pass through the embedded server's decoding.
    const handler = makeApiHandler(s.deps, () => {});
    const event = (runId: string) => ({
      version: "2.0",
      routeKey: "GET /api/runs/{runId}",
      rawPath: "/api/runs/x",
      rawQueryString: "",
      headers: { authorization: `Bearer ${PLATFORM_KEY}` },
      pathParameters: { runId },
      requestContext: { http: { method: "GET", path: "/api/runs/x" } },
      isBase64Encoded: false,
    });
    for (const runId of ["\ud800", "run_\u0000", "r".repeat(3000)]) {
      // The event carries only what the handler reads (a test's partial API Gateway event).
      const res = await handler(event(runId) as never, lambdaContext("api"));
      expect(res.statusCode, runId.slice(0, 10)).toBe(400);
      expect(JSON.parse(res.body ?? "{}").error.details[0].path).toBe("runId");
    }
  });
});
