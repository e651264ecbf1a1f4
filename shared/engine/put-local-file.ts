import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { BlobStore } from "../ports/blob-store.ts";

const RETRYABLE = /ECONNRESET|EPIPE|ETIMEDOUT|socket hang up|TimeoutError|RequestTimeout|InternalError|SlowDown/i;
const ATTEMPTS = 4;

/**
 * PUTs a local file as a stream, reopening it when the connection fails: the SDK cannot resend a stream it
 * has half-read, so a reset keep-alive socket would otherwise fail the task. `wrap` sees each fresh stream
 * (to hash what is sent); it runs again on every attempt.
 */
export async function putLocalFile(
  blobs: BlobStore,
  key: string,
  path: string,
  size: number,
  contentType: string,
  wrap: (source: Readable) => Readable = (s) => s,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const source = createReadStream(path, { highWaterMark: 1024 * 1024 });
    try {
      await blobs.put(key, wrap(source), contentType, size);
      return;
    } catch (err) {
      source.destroy();
      const text = `${(err as Error).name} ${(err as Error).message} ${(err as { code?: string }).code ?? ""}`;
      if (attempt >= ATTEMPTS || !RETRYABLE.test(text)) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}
