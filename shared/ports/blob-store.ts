import type { Readable } from "node:stream";

/** Object storage for logs and run files (S3 API). */
export interface BlobStore {
  put(key: string, body: string | Uint8Array | Readable, contentType?: string, contentLength?: number): Promise<void>;
  /**
   * Stores a stream of unknown length without holding it whole (in S3 a multipart upload of fixed-size parts,
   * aborted on failure so nothing half-written remains); resolves to its size in bytes.
   */
  putStream(key: string, body: Readable, contentType?: string): Promise<number>;
  get(key: string): Promise<Buffer | null>;
  getStream(key: string): Promise<Readable | null>;
  /** The object's size in bytes, or null when there is none. */
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** A time-limited URL that GETs the object without credentials (large downloads bypass the API). */
  presignGet?(key: string, expiresSeconds: number): Promise<string>;
  /** A time-limited URL that PUTs the object without credentials (the stage-out container of an ECS task). */
  presignPut?(key: string, expiresSeconds: number): Promise<string>;
}
