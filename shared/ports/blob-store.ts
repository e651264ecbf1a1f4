import type { Readable } from "node:stream";

/** Object storage for logs and run files (S3 API). */
export interface BlobStore {
  put(key: string, body: string | Uint8Array | Readable, contentType?: string, contentLength?: number): Promise<void>;
  get(key: string): Promise<Buffer | null>;
  getStream(key: string): Promise<Readable | null>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** A time-limited URL that GETs the object without credentials (large downloads bypass the API). */
  presignGet?(key: string, expiresSeconds: number): Promise<string>;
  /** A time-limited URL that PUTs the object without credentials (the stage-out container of an ECS task). */
  presignPut?(key: string, expiresSeconds: number): Promise<string>;
}
