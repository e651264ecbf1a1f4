// `npm start` without STEPWISE_API_KEY: a key is generated, printed once, and saved where the CLI finds it.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pollUntil } from "./support/poll.ts";
import { startServerProcess } from "./support/server-process.ts";

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
});
