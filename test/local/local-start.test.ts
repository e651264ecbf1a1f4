// `npm start`: a generated key is printed once and saved where the CLI finds it; examples never overwrite a user's edit.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pollUntil } from "../support/poll.ts";
import { startServerProcess } from "../support/server-process.ts";

let dataDir: string;
let examplesDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "stepwise-local-start-"));
  examplesDir = await mkdtemp(join(tmpdir(), "stepwise-local-start-examples-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await rm(examplesDir, { recursive: true, force: true });
});

it("prints a generated key on the first start only, and keeps accepting it after a restart", async () => {
  const first = await startServerProcess({ dataDir, examplesDir });
  const saved = JSON.parse(await readFile(join(dataDir, "local.json"), "utf8")) as { apiKey: string; url: string };
  expect(saved.apiKey).toMatch(/^sw_/);
  await pollUntil(
    "the key to be printed",
    async () => first.output().includes(`API key (admin of org "default"): ${saved.apiKey}`) || null,
  );
  await first.stop();

  const second = await startServerProcess({ dataDir, examplesDir });
  try {
    await pollUntil(
      "the key file to be named",
      async () => second.output().includes(join(dataDir, "local.json")) || null,
    );
    expect(second.output()).not.toContain(saved.apiKey);
    const me = await fetch(`${second.url}/api/whoami`, { headers: { authorization: `Bearer ${saved.apiKey}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ orgId: "default", role: "admin" });
  } finally {
    await second.stop();
  }
}, 200_000); // two real server starts, each allowed 90 s on a loaded runner

it("applies an example only while no workflow of its name exists: a user's edit survives the next start", async () => {
  const ownData = await mkdtemp(join(tmpdir(), "stepwise-local-examples-"));
  const ownExamples = await mkdtemp(join(tmpdir(), "stepwise-local-examples-src-"));
  const key = "local-start-examples-key-0123456789";
  const example = {
    name: "hello",
    description: "the example",
    nodes: [{ id: "hi", type: "command", command: "echo hi" }],
  };
  await writeFile(join(ownExamples, "hello.json"), JSON.stringify(example));
  const api = (url: string, path: string, method = "GET", body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  try {
    const first = await startServerProcess({ dataDir: ownData, examplesDir: ownExamples, apiKey: key });
    expect((await api(first.url, "/api/workflows/hello")).body.version).toBe(1);
    const edited = { ...example, description: "my edit", nodes: [{ id: "hi", type: "command", command: "echo mine" }] };
    expect((await api(first.url, "/api/workflows/hello", "PUT", edited)).body.version).toBe(2);
    await first.stop();

    const second = await startServerProcess({ dataDir: ownData, examplesDir: ownExamples, apiKey: key });
    try {
      const wf = (await api(second.url, "/api/workflows/hello")).body;
      expect(wf).toMatchObject({ version: 2, definition: { description: "my edit" } });
      const list = (await api(second.url, "/api/workflows")).body;
      expect(list.items).toEqual([expect.objectContaining({ name: "hello", version: 2, description: "my edit" })]);
    } finally {
      await second.stop();
    }
  } finally {
    await rm(ownData, { recursive: true, force: true });
    await rm(ownExamples, { recursive: true, force: true });
  }
});

it("prints one readable line per request and per run status change", async () => {
  const ownData = await mkdtemp(join(tmpdir(), "stepwise-local-lines-"));
  const key = "local-start-lines-key-0123456789";
  const api = (url: string, path: string, method = "GET", body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const server = await startServerProcess({ dataDir: ownData, examplesDir, apiKey: key });
  try {
    const wf = { name: "lines", nodes: [{ id: "hi", type: "command", command: "echo hi" }] };
    expect((await api(server.url, "/api/workflows/lines", "PUT", wf)).status).toBe(201);
    const { runId } = (await api(server.url, "/api/workflows/lines/trigger?token=secret", "POST", {})).body;
    const out = await pollUntil("the run's last status line", async () =>
      server.output().includes(`run ${runId} lines running → succeeded`) ? server.output() : null,
    );
    expect(out).toMatch(/^PUT \/api\/workflows\/lines 201 \d+ ms$/m);
    // The path only: a query may carry a token.
    expect(out).toMatch(/^POST \/api\/workflows\/lines\/trigger 202 \d+ ms$/m);
    expect(out).not.toContain("secret");
    expect(out).toMatch(new RegExp(`^run ${runId} lines new → (queued|running) \\(org default\\)$`, "m"));
  } finally {
    await server.stop();
    await rm(ownData, { recursive: true, force: true });
  }
});
