// A secret input reaches later nodes; whatever they do with it, no record, file or response of the run holds it.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropPartialSecret,
  findSecretInFile,
  maskOutputVariables,
  SECRET_MASK,
  SecretScanner,
  secretMasker,
} from "../../shared/engine/secret-mask.ts";
import { HashingStream } from "../../shared/evidence/hashing.ts";
import { listFiles, scanTable } from "../support/secret-scan.ts";
import { type Json, startStack, type TestStack } from "../support/stack.ts";

const SECRET = "Kq7-Zx2-Vw9R"; // the value that must appear nowhere
const SECRET_BYTES = Buffer.from(SECRET);

const leaky = {
  name: "leaky-secret",
  nodes: [{ id: "otp", type: "input", fields: { code: { type: "string", secret: true } } }].concat(
    [
      // (a) returned by a script, plainly and nested in JSON.
      {
        id: "returns-it",
        type: "script",
        runtime: "node",
        code:
          "export default async ({ secrets }) => ({ echoed: secrets['otp.code'], " +
          "nested: { list: ['code=' + secrets['otp.code']] }, length: secrets['otp.code'].length })",
      },
      // (b) written to $STEPWISE_OUTPUT.
      { id: "outputs-it", type: "command", command: 'echo "shout=$STEPWISE_SECRET_OTP_CODE" >> "$STEPWISE_OUTPUT"' },
      // (c) written to a file under out/, beside a harmless one.
      {
        id: "files-it",
        type: "command",
        command: 'echo "the code is $STEPWISE_SECRET_OTP_CODE" > out/f.txt; echo harmless > out/g.txt',
      },
      // The value straddles the 1 MiB read chunks of the scan.
      {
        id: "big-file",
        type: "command",
        command:
          'head -c 1048570 /dev/zero > out/big.bin; printf "%s" "$STEPWISE_SECRET_OTP_CODE" >> out/big.bin; ' +
          "head -c 100000 /dev/zero >> out/big.bin",
      },
      // A file without the value is stored as usual, scanned or not.
      { id: "clean-file", type: "command", command: "echo hello > out/clean.txt" },
      // Quoted in an error message ($STEPWISE_OUTPUT line without '=').
      { id: "bad-output", type: "command", command: 'echo "oops $STEPWISE_SECRET_OTP_CODE" >> "$STEPWISE_OUTPUT"' },
      // As the reason for having nothing to do.
      {
        id: "no-action",
        type: "script",
        runtime: "node",
        code: "export default async ({ secrets }) => ({ $noAction: 'nothing for ' + secrets['otp.code'] })",
      },
      // Printed right across the end of the stdout head the task record keeps (4096 bytes).
      {
        id: "long-line",
        type: "command",
        command: "head -c 4090 /dev/zero | tr '\\0' x; echo \"$STEPWISE_SECRET_OTP_CODE\"",
      },
    ].map((n) => ({ ...n, needs: ["otp"] })) as never[],
  ),
};

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe("secrets passed on by later nodes", () => {
  it("masks them in the context, refuses files holding them, and stores them nowhere", async () => {
    const approver = await stack.createKey("approver", "alice");
    await stack.putWorkflow(leaky);
    const runId = await stack.trigger(leaky.name);
    await stack.waitForRun(runId, ["awaiting_input"]);
    const seen: string[] = [];
    const get = async (path: string) => {
      const res = await stack.api(path);
      seen.push(res.text);
      return res;
    };
    const sent = await stack.api(`/api/runs/${runId}/inputs/otp`, {
      body: { values: { code: SECRET } },
      key: approver,
    });
    seen.push(sent.text);
    expect(sent.status).toBe(200);
    const run = await stack.waitForSealed(runId);
    seen.push(JSON.stringify(run));

    // The file nodes failed the run; everything else ran to its end.
    expect(run.status).toBe("failed");
    const tasks: Record<string, Json> = {};
    for (const t of (await get(`/api/runs/${runId}/tasks`)).body.items) tasks[t.nodeId] = t;
    for (const id of ["returns-it", "outputs-it", "clean-file", "no-action", "long-line"])
      expect(tasks[id]?.status, id).toBe("succeeded");

    // (a, b) The context shows the mask, and the attempt says which variables it masked (names only).
    expect(run.context.echoed).toEqual({ type: "string", value: SECRET_MASK, writtenBy: "returns-it" });
    expect(run.context.nested).toMatchObject({ type: "json", value: { list: [`code=${SECRET_MASK}`] } });
    expect(run.context.length).toMatchObject({ type: "number", value: SECRET.length });
    expect(run.context.shout).toEqual({ type: "string", value: SECRET_MASK, writtenBy: "outputs-it" });
    expect(tasks["returns-it"].maskedOutputs).toEqual(["echoed", "nested"]);
    expect(tasks["returns-it"].attempts[0].maskedOutputs).toEqual(["echoed", "nested"]);
    expect(tasks["outputs-it"].attempts[0].maskedOutputs).toEqual(["shout"]);
    expect(tasks["clean-file"].maskedOutputs).toBeUndefined();

    // (c) A file holding the value fails its node, naming the file and the field; no file of that attempt is kept.
    const filesIt = tasks["files-it"];
    expect(filesIt.status).toBe("failed");
    expect(filesIt.error.code).toBe("secret_in_output");
    expect(filesIt.error.message).toContain("out/f.txt");
    expect(filesIt.error.message).toContain("otp.code");
    expect(filesIt.outputs).toEqual([]);
    expect(filesIt.attempts).toHaveLength(1);
    expect(tasks["big-file"].error).toMatchObject({ code: "secret_in_output" });
    expect(tasks["big-file"].error.message).toContain("out/big.bin");
    expect(tasks["clean-file"].outputs.map((f: Json) => f.path)).toEqual(["clean.txt"]);
    const files = await get(`/api/runs/${runId}/files`);
    expect(files.body.items.map((f: Json) => f.path)).toEqual(["clean.txt"]);
    expect((await get(`/api/runs/${runId}/files/f.txt`)).status).toBe(404);
    expect((await get(`/api/runs/${runId}/files/clean.txt`)).text).toBe("hello\n");

    // Error messages, no-action reasons and log heads carry the mask too.
    expect(tasks["bad-output"].error.code).toBe("invalid_output");
    expect(tasks["bad-output"].error.message).toContain(`oops ${SECRET_MASK}`);
    expect(tasks["no-action"].noActionReason).toBe(`nothing for ${SECRET_MASK}`);
    const head: string = tasks["long-line"].stdout;
    expect(head.startsWith("x".repeat(4090))).toBe(true);
    expect(head.slice(4090)).toBe(SECRET_MASK.slice(0, head.length - 4090));
    expect((await get(`/api/runs/${runId}/logs?node=long-line`)).text).toContain(SECRET_MASK);

    // The evidence still verifies, masked values and all.
    expect((await get(`/api/runs/${runId}/verify`)).body.valid).toBe(true);

    // Everything the API said about this run.
    for (const path of ["", "/tasks", "/audit?limit=100", "/logs", "/files", "/lineage"])
      await get(`/api/runs/${runId}${path}`);
    for (const id of Object.keys(tasks)) await get(`/api/runs/${runId}/tasks/${id}`);
    for (const body of seen) expect(body.includes(SECRET)).toBe(false);
    const audit = (await get(`/api/runs/${runId}/audit?limit=100`)).body.items as Json[];
    expect(audit.length).toBeGreaterThan(10);

    // Every stored item (DynamoDB API) and every file under the stack's data dir: dynalite, s3rver, task dirs.
    const items = await scanTable(stack.deps.store);
    for (const item of items) expect(JSON.stringify(item).includes(SECRET)).toBe(false);
    expect(items.length).toBeGreaterThan(10);
    const stored = await listFiles(stack.dataDir);
    expect(stored.some((f) => f.includes(`${join(stack.dataDir, "s3")}/`))).toBe(true);
    expect(stored.some((f) => f.includes(`${join(stack.dataDir, "dynamodb")}/`))).toBe(true);
    const hits: string[] = [];
    for (const f of stored) if ((await readFile(f)).includes(SECRET_BYTES)) hits.push(f);
    expect(hits).toEqual([]);
  });
});

describe("secret masking units", () => {
  const secrets = { "otp.code": "731946", "otp.token": "tok-731946-x", "otp.pin": "12" };

  it("masks longer values first, and leaves values too short to mask alone", () => {
    const mask = secretMasker(secrets);
    expect(mask("a tok-731946-x b 731946 c 12")).toBe(`a ${SECRET_MASK} b ${SECRET_MASK} c 12`);
    expect(secretMasker({})("731946")).toBe("731946");
  });

  it("masks strings, numbers, nested values and keys of output variables, naming what it masked", () => {
    const { vars, masked } = maskOutputVariables(
      {
        plain: { type: "string", value: "x731946y" },
        num: { type: "number", value: 731946 },
        deep: { type: "json", value: { a: [1, { b: "731946" }], "731946": true } },
        fine: { type: "number", value: 42 },
        flag: { type: "boolean", value: true },
      },
      secrets,
    );
    expect(masked).toEqual(["plain", "num", "deep"]);
    expect(vars.plain).toEqual({ type: "string", value: `x${SECRET_MASK}y` });
    expect(vars.num).toEqual({ type: "string", value: SECRET_MASK });
    expect(vars.deep).toEqual({ type: "json", value: { a: [1, { b: SECRET_MASK }], [SECRET_MASK]: true } });
    expect(vars.fine).toEqual({ type: "number", value: 42 });
    expect(JSON.stringify(vars)).not.toContain("731946");
  });

  it("drops a trailing start of a secret from a cut text", () => {
    expect(dropPartialSecret("abc 7319", secrets)).toBe("abc ");
    expect(dropPartialSecret("abc tok-7", secrets)).toBe("abc ");
    expect(dropPartialSecret("abc 1", secrets)).toBe("abc 1");
  });

  it("finds a value split across chunks at every position, and its JSON-escaped form", () => {
    const data = Buffer.from(`${"a".repeat(40)}731946${"b".repeat(40)}`);
    for (let size = 1; size <= 12; size++) {
      for (let offset = 0; offset < size; offset++) {
        const scanner = new SecretScanner(secrets);
        let found: string | null = null;
        for (let i = -offset; i < data.length && !found; i += size)
          found = scanner.push(data.subarray(Math.max(0, i), i + size));
        expect(found, `chunks of ${size} from ${offset}`).toBe("otp.code");
      }
    }
    const clean = new SecretScanner(secrets);
    for (const part of ["7319", "4", "x731", "94"]) expect(clean.push(Buffer.from(part))).toBeNull();
    const quoted = new SecretScanner({ "f.q": 'say "hi"' });
    expect(quoted.push(Buffer.from(JSON.stringify({ v: 'say "hi"' })))).toBe("f.q");
    expect(new SecretScanner({ "f.short": "ab" }).active).toBe(false);
  });

  it("scans a file larger than one read chunk with the value on the seam", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stepwise-scan-"));
    try {
      const path = join(dir, "big.bin");
      const seam = 1024 * 1024 - 3;
      await writeFile(path, Buffer.concat([Buffer.alloc(seam), Buffer.from("731946"), Buffer.alloc(2 * 1024 * 1024)]));
      expect(await findSecretInFile(path, secrets)).toBe("otp.code");
      expect(await findSecretInFile(path, { "x.y": "nothere" })).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("sends zeros in place of a value met while uploading, holding back the bytes that could begin one", async () => {
    const data = Buffer.from(`${"a".repeat(20)}731946${"b".repeat(20)}`);
    for (const size of [1, 4, 7, 23, 100]) {
      const parts: Buffer[] = [];
      for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
      const hasher = new HashingStream();
      hasher.scanner = new SecretScanner(secrets);
      const sent: Buffer[] = [];
      for await (const c of Readable.from(parts).pipe(hasher)) sent.push(c as Buffer);
      const out = Buffer.concat(sent);
      expect(out.length, `chunks of ${size}`).toBe(data.length);
      expect(out.includes(Buffer.from("7319"))).toBe(false);
      expect(hasher.scanner.found).toBe("otp.code");
    }
    const clean = new HashingStream();
    clean.scanner = new SecretScanner(secrets);
    const sent: Buffer[] = [];
    for await (const c of Readable.from([Buffer.from("hello "), Buffer.from("world")]).pipe(clean))
      sent.push(c as Buffer);
    expect(Buffer.concat(sent).toString()).toBe("hello world");
  });
});
