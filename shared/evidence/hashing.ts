import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { putLocalFile } from "../engine/put-local-file.ts";
import { SecretInOutputError, SecretScanner } from "../engine/secret-mask.ts";
import type { BlobStore } from "../ports/blob-store.ts";

/** S3 takes one PUT of up to 5 GiB; past that a multipart upload would be needed. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;
/** Read size for local files: large enough that per-chunk overhead stays small next to SHA-256 itself. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface Digest {
  sha256: string;
  size: number;
}

/** A pass-through stream that hashes and counts what flows through it, so one read both hashes and uploads. */
export class HashingStream extends Transform {
  private readonly hash = createHash("sha256");
  bytes = 0;
  /**
   * When set, the last bytes of each chunk are held back until the next one shows they do not begin a secret value;
   * once a value is found, zeros go on in place of the bytes (same length, so the request still completes: an
   * erroring body would leave the upload hanging). The caller then deletes what was stored.
   */
  scanner: SecretScanner | null = null;
  private held: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.scanner) {
      cb(null, chunk);
      return;
    }
    if (this.scanner.push(chunk)) {
      this.push(Buffer.alloc(this.held.length + chunk.length));
      this.held = Buffer.alloc(0);
      cb();
      return;
    }
    const keep = Math.min(this.scanner.keep, this.held.length + chunk.length);
    if (chunk.length >= keep) {
      if (this.held.length) this.push(this.held);
      this.held = Buffer.from(chunk.subarray(chunk.length - keep));
      cb(null, chunk.subarray(0, chunk.length - keep));
      return;
    }
    const pending = Buffer.concat([this.held, chunk]);
    this.held = Buffer.from(pending.subarray(pending.length - keep));
    cb(null, pending.subarray(0, pending.length - keep));
  }

  override _flush(cb: TransformCallback): void {
    const rest = this.scanner?.found ? Buffer.alloc(this.held.length) : this.held;
    this.held = Buffer.alloc(0);
    cb(null, rest.length ? rest : undefined);
  }

  /** sha256:<hex> of everything that went through; call once, after the stream ended. */
  digest(): Digest {
    return { sha256: `sha256:${this.hash.digest("hex")}`, size: this.bytes };
  }
}

import { InputMissingError, IntegrityError } from "../errors.ts";

export { InputMissingError, IntegrityError };

/** The content type a run file is stored and served with; unknown kinds are plain bytes. */
export function contentTypeOf(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? "";
  if (["txt", "log", "csv", "tsv", "md", "env", "ini", "yaml", "yml"].includes(ext)) return "text/plain; charset=utf-8";
  if (ext === "json") return "application/json";
  if (ext === "gz" || ext === "tgz") return "application/gzip";
  return "application/octet-stream";
}

/**
 * Uploads a local file in one streaming PUT while hashing it: memory stays flat whatever the size, and the hash is
 * of exactly the bytes sent. With `secrets`, the bytes sent are also checked for their values (the file was scanned
 * before, but a process the task left behind could still write to it): a hit stops the upload before those bytes go
 * and removes whatever was stored.
 */
export async function uploadHashed(
  blobs: BlobStore,
  key: string,
  localPath: string,
  contentType: string,
  secrets: Record<string, string> = {},
) {
  const { size } = await stat(localPath);
  if (size > MAX_SINGLE_PUT_BYTES)
    throw new Error(`${size} bytes is more than the ${MAX_SINGLE_PUT_BYTES} bytes one run file may have`);
  const fresh = () => {
    const h = new HashingStream({ highWaterMark: READ_CHUNK_BYTES });
    const scanner = new SecretScanner(secrets);
    if (scanner.active) h.scanner = scanner;
    return h;
  };
  let hasher = fresh();
  await putLocalFile(blobs, key, localPath, size, contentType, (source) => {
    hasher = fresh();
    source.on("error", (err) => hasher.destroy(err));
    return source.pipe(hasher);
  });
  const found = hasher.scanner?.found;
  if (found) {
    // What was stored has zeros where the value was; it is no run file either way.
    await blobs.delete(key);
    throw new SecretInOutputError(`it changed while it was uploaded and holds the value of secret input '${found}'`);
  }
  const digest = hasher.digest();
  // The task has ended, but a process it left behind could still be writing: what was sent is what counts.
  if (digest.size !== size) throw new Error(`the file changed while it was uploaded (${size} → ${digest.size} bytes)`);
  return digest;
}

/** The sha256 and size of a stored object, streamed; null when it is not there. */
export async function digestBlob(blobs: BlobStore, key: string): Promise<Digest | null> {
  const stream = await blobs.getStream(key);
  if (!stream) return null;
  const hasher = new HashingStream();
  await pipeline(stream, hasher, async (chunks: AsyncIterable<Buffer>) => {
    for await (const _ of chunks) {
      // drain: the hash is all we keep
    }
  });
  return hasher.digest();
}

/** Hashes a local file with a plain read loop. */
export async function digestFile(path: string): Promise<Digest> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: `sha256:${hash.digest("hex")}`, size };
}

/**
 * Downloads a stored object to `dest`, hashing it on the way, and keeps it only when it matches `expected`;
 * otherwise removes it and throws an IntegrityError naming the file.
 */
export async function downloadVerified(
  blobs: BlobStore,
  key: string,
  dest: string,
  expected: Digest & { path: string; producedBy: string },
): Promise<void> {
  const stream = await blobs.getStream(key);
  if (!stream)
    throw new IntegrityError(
      `integrity check failed for input '${expected.path}' (produced by '${expected.producedBy}'): its stored bytes are missing`,
    );
  await mkdir(dirname(dest), { recursive: true });
  const hasher = new HashingStream();
  await pipeline(stream, hasher, createWriteStream(dest, { mode: 0o644 }));
  const got = hasher.digest();
  if (got.sha256 !== expected.sha256 || got.size !== expected.size) {
    await rm(dest, { force: true });
    throw new IntegrityError(
      `integrity check failed for input '${expected.path}' (produced by '${expected.producedBy}'): ` +
        `the stored bytes hash to ${got.sha256} (${got.size} bytes) but the record says ${expected.sha256} (${expected.size} bytes)`,
    );
  }
}
