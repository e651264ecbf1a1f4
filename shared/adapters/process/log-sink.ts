import { createHash } from "node:crypto";
import type { WriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { dropPartialSecret, maskableSecrets } from "../../engine/secret-mask.ts";
import { LOG_HEAD_BYTES } from "../../ports/task-executor.ts";

/** Collects a stream's first bytes for the task record while the whole stream goes to the log file. */
export class LogSink {
  private heads = { o: Buffer.alloc(0), e: Buffer.alloc(0) };
  private seen = { o: 0, e: 0 };
  private partial = { o: "", e: "" };
  private hash = createHash("sha256");
  bytes = 0;
  /** The head keeps this many bytes past LOG_HEAD_BYTES, so a secret value cut by the limit is still masked whole. */
  private readonly extra: number;
  constructor(
    private readonly file: WriteStream,
    private readonly mask: (s: string) => string,
    private readonly secrets: Record<string, string>,
  ) {
    this.extra = Math.max(0, ...maskableSecrets(secrets).map((s) => Buffer.byteLength(s.value)));
  }
  write(stream: "o" | "e", chunk: Buffer): void {
    const head = this.heads[stream];
    const limit = LOG_HEAD_BYTES + this.extra;
    this.seen[stream] += chunk.length;
    if (head.length < limit) this.heads[stream] = Buffer.concat([head, chunk.subarray(0, limit - head.length)]);
    const text = this.partial[stream] + chunk.toString("utf8");
    const lines = text.split("\n");
    this.partial[stream] = lines.pop() ?? "";
    for (const line of lines) this.line(stream, line);
  }
  private line(stream: "o" | "e", line: string): void {
    const out = `${stream}|${this.mask(line)}\n`;
    this.hash.update(out);
    this.bytes += Buffer.byteLength(out);
    this.file.write(out);
  }
  /** The first LOG_HEAD_BYTES of a stream, masked; the end of a cut head never keeps the start of a secret. */
  private head(stream: "o" | "e"): string {
    const raw = this.heads[stream];
    if (!this.extra) return raw.toString("utf8"); // no secrets: the head as it was read
    let text = this.mask(raw.toString("utf8"));
    if (this.seen[stream] > raw.length) text = dropPartialSecret(text, this.secrets);
    const bytes = Buffer.from(text, "utf8");
    return bytes.length <= LOG_HEAD_BYTES ? text : bytes.subarray(0, LOG_HEAD_BYTES).toString("utf8");
  }
  async close(): Promise<{ stdoutHead: string; stderrHead: string; sha: string }> {
    for (const s of ["o", "e"] as const) if (this.partial[s]) this.line(s, this.partial[s]);
    await new Promise<void>((resolve, reject) =>
      this.file.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    return {
      stdoutHead: this.head("o"),
      stderrHead: this.head("e"),
      sha: `sha256:${this.hash.digest("hex")}`,
    };
  }
}

/** The first `size` bytes of a file that is still being written. */
export async function readHead(path: string, size: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
