import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, type EmulatorTransport, startEmulators } from "../../local/emulator-transport.ts";
import { makeDocumentClient, makeS3Client } from "../../shared/adapters/aws-clients.ts";
import { ensureBucket, ensureTable } from "../../shared/adapters/emulator-setup.ts";
import { InProcessHttpHandler } from "../../shared/adapters/in-process-http.ts";
import { S3BlobStore } from "../../shared/adapters/s3-blob-store.ts";
import { CostMeter } from "../../shared/ports/metrics.ts";

// The embedded stack's two ways to the emulators, with the real dynalite and s3rver: the same SDK calls give the
// same answers in process as over TCP (errors included), and the in-process handler streams bodies both ways.
describe.each<EmulatorTransport>(["in-process", "tcp"])("emulator transport: %s", (transport) => {
  let dir: string;
  let emulators: Emulators;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stepwise-transport-"));
    emulators = await startEmulators(dir, transport);
    await ensureTable(emulators.dynamo.endpoint, "tbl", emulators.dynamo.requestHandler);
  });
  afterAll(async () => {
    await emulators.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`${transport === "in-process" ? "uses" : "does not use"} the in-process handler`, () => {
    expect(emulators.dynamo.requestHandler instanceof InProcessHttpHandler).toBe(transport === "in-process");
    expect(emulators.s3.requestHandler instanceof InProcessHttpHandler).toBe(transport === "in-process");
  });

  it("puts, gets and queries DynamoDB items, refuses a failed condition, and meters the writes", async () => {
    const meter = new CostMeter();
    const db = makeDocumentClient(emulators.dynamo, meter);
    const { PutCommand, GetCommand, QueryCommand } = await import("@aws-sdk/lib-dynamodb");
    await db.send(new PutCommand({ TableName: "tbl", Item: { pk: "A", sk: "1", v: "héllo" } }));
    await db.send(new PutCommand({ TableName: "tbl", Item: { pk: "A", sk: "2", v: 2 } }));
    const got = await db.send(new GetCommand({ TableName: "tbl", Key: { pk: "A", sk: "1" } }));
    expect(got.Item).toEqual({ pk: "A", sk: "1", v: "héllo" });
    const q = await db.send(
      new QueryCommand({
        TableName: "tbl",
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": "A" },
      }),
    );
    expect(q.Items?.map((i) => i.sk)).toEqual(["1", "2"]);
    const refused = db.send(
      new PutCommand({ TableName: "tbl", Item: { pk: "A", sk: "1" }, ConditionExpression: "attribute_not_exists(pk)" }),
    );
    await expect(refused).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    expect(meter.dynamoWrites).toBe(3);
    expect(meter.dynamoWriteUnits).toBeGreaterThanOrEqual(3);
  });

  it("puts and gets S3 objects from bytes and from a stream, lists them, and reports a missing key", async () => {
    const s3 = makeS3Client(emulators.s3, new CostMeter());
    await ensureBucket(s3, "bkt");
    await ensureBucket(s3, "bkt"); // twice: the second answer is "already owned", parsed from the emulator's XML
    const blobs = new S3BlobStore(s3, "bkt");
    await blobs.put("x/small.txt", "hello", "text/plain");
    // 3 MiB in 64 KiB chunks: more than the streams' buffers, so both sides' backpressure is exercised.
    const chunk = Buffer.alloc(64 * 1024, 7);
    const chunks = Array.from({ length: 48 }, () => chunk);
    await blobs.put("x/big.bin", Readable.from(chunks), "application/octet-stream", 48 * chunk.length);
    expect((await blobs.get("x/small.txt"))?.toString()).toBe("hello");
    const big = await blobs.get("x/big.bin");
    expect(big?.length).toBe(48 * chunk.length);
    expect(big?.every((b) => b === 7)).toBe(true);
    expect((await blobs.list("x/")).sort()).toEqual(["x/big.bin", "x/small.txt"]);
    expect(await blobs.get("x/missing")).toBeNull();
    await blobs.delete("x/small.txt");
    expect(await blobs.list("x/")).toEqual(["x/big.bin"]);
  });
});

describe("in-process HTTP handler", () => {
  it("rejects a request whose signal is already aborted, without calling the listener", async () => {
    let called = 0;
    const handler = new InProcessHttpHandler(() => {
      called++;
    });
    const ac = new AbortController();
    ac.abort();
    const req = { method: "GET", protocol: "http:", hostname: "h", path: "/", query: {}, headers: {} };
    await expect(handler.handle(req, { abortSignal: ac.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(called).toBe(0);
  });

  it("passes the method, path, escaped query and headers, and returns what the listener wrote", async () => {
    const handler = new InProcessHttpHandler((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        res.writeHead(201, { "x-echo": `${req.method} ${req.url} ${req.headers.host} ${body}` });
        res.end("done");
      });
    });
    const { response } = await handler.handle({
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 9,
      path: "/p",
      query: { a: "x y", b: ["1", "2"], flag: null },
      headers: { "Content-Type": "text/plain" },
      body: "payload",
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers["x-echo"]).toBe("POST /p?a=x%20y&b=1&b=2&flag 127.0.0.1:9 payload");
    const chunks: Buffer[] = [];
    for await (const c of response.body as Readable) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("done");
  });
});
