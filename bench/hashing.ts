// The cost of hashing run files: the engine's upload path (one streaming read that hashes and PUTs to S3) against
// the SHA-256 floor of this machine (a plain read loop feeding crypto.createHash the same bytes).
import "../shared/polyfills.ts";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import S3rver from "s3rver";
import { makeS3Client } from "../shared/adapters/aws-clients.ts";
import { ensureBucket } from "../shared/adapters/emulator-setup.ts";
import { S3BlobStore } from "../shared/adapters/s3-blob-store.ts";
import { downloadVerified, HashingStream, uploadHashed } from "../shared/evidence/hashing.ts";

const MiB = 1024 * 1024;

export interface HashingBench {
  /** Hash + upload through the engine's path (streaming read → HashingStream → S3 PutObject), MB/s. */
  engineMBps: number;
  /** The SHA-256 floor: a plain read loop feeding crypto.createHash the same bytes, MB/s. */
  floorMBps: number;
  /** The engine's hashing stream over the file with no upload (read + hash), MB/s. */
  hashPathMBps: number;
  /** How much the process's RSS grew (peak) while the engine uploaded the file, MiB. */
  peakRssGrowthMiB: number;
  /** Download from S3 into a task's in/ with the recorded hash checked on the way (downloadVerified), MB/s. */
  downloadMBps: number;
  /** Peak RSS growth while downloading, MiB. */
  downloadPeakRssGrowthMiB: number;
  sizeMiB: number;
}

async function makeFile(path: string, sizeMiB: number): Promise<void> {
  const fh = await open(path, "w");
  try {
    for (let i = 0; i < sizeMiB; i++) await fh.write(randomBytes(MiB));
  } finally {
    await fh.close();
  }
}

const mbps = (bytes: number, ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;

/** Hashes+uploads a ~256 MiB file through the upload path vs plain crypto.createHash over the same bytes. */
export async function benchHashing(sizeMiB = 256): Promise<HashingBench> {
  const dir = await mkdtemp(join(tmpdir(), "stepwise-bench-hash-"));
  const s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: join(dir, "s3") });
  try {
    const file = join(dir, "data.bin");
    await makeFile(file, sizeMiB);
    const bytes = sizeMiB * MiB;
    const info = (await s3.run()) as AddressInfo;
    const client = makeS3Client({ endpoint: `http://127.0.0.1:${info.port}` });
    await ensureBucket(client, "bench");
    const blobs = new S3BlobStore(client, "bench");
    // One small upload first, so connection setup is not timed.
    await blobs.put("warm-up", "x");

    // Engine path, with RSS sampled to show memory stays flat whatever the file size. Best of two: the machine is
    // shared, and the slower run measures the neighbours, not the code.
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    let engineMs = Number.POSITIVE_INFINITY;
    let uploaded = "";
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      uploaded = (await uploadHashed(blobs, `bench/data-${i}.bin`, file, "application/octet-stream")).sha256;
      engineMs = Math.min(engineMs, performance.now() - t0);
    }
    clearInterval(sampler);
    const uploadPeak = peak;

    // Download path: what a task reading the file as an input goes through, hash checked against the record.
    const dl0 = process.memoryUsage().rss;
    peak = dl0;
    const dlSampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    let downloadMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      await downloadVerified(blobs, "bench/data-0.bin", join(dir, `in-${i}.bin`), {
        sha256: uploaded,
        size: bytes,
        path: "data.bin",
        producedBy: "bench",
      });
      downloadMs = Math.min(downloadMs, performance.now() - t0);
      await rm(join(dir, `in-${i}.bin`), { force: true });
    }
    clearInterval(dlSampler);

    // The engine's hashing stream alone (read + hash, no network) against the floor: a plain read loop feeding
    // crypto.createHash the same bytes in the same 1 MiB pieces. Interleaved, best of three each, as the machine is
    // shared and noisy.
    let hashPathMs = Number.POSITIVE_INFINITY;
    let floorMs = Number.POSITIVE_INFINITY;
    let streamed = "";
    let floor = "";
    for (let i = 0; i < 3; i++) {
      const t1 = performance.now();
      const hasher = new HashingStream();
      await pipeline(createReadStream(file, { highWaterMark: MiB }), hasher, async (chunks: AsyncIterable<Buffer>) => {
        for await (const _ of chunks) {
          // discard
        }
      });
      streamed = hasher.digest().sha256;
      hashPathMs = Math.min(hashPathMs, performance.now() - t1);

      const t2 = performance.now();
      const h = createHash("sha256");
      for await (const chunk of createReadStream(file, { highWaterMark: MiB })) h.update(chunk as Buffer);
      floor = `sha256:${h.digest("hex")}`;
      floorMs = Math.min(floorMs, performance.now() - t2);
    }
    if (floor !== uploaded || floor !== streamed)
      throw new Error("the engine's hash differs from crypto.createHash over the same bytes");
    client.destroy();
    return {
      engineMBps: mbps(bytes, engineMs),
      floorMBps: mbps(bytes, floorMs),
      hashPathMBps: mbps(bytes, hashPathMs),
      peakRssGrowthMiB: Math.round(((uploadPeak - rss0) / MiB) * 10) / 10,
      downloadMBps: mbps(bytes, downloadMs),
      downloadPeakRssGrowthMiB: Math.round(((peak - dl0) / MiB) * 10) / 10,
      sizeMiB,
    };
  } finally {
    await s3.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchHashing(Number(process.argv[2] ?? 256));
  console.log(
    `hashing ${r.sizeMiB} MiB: upload path ${r.engineMBps} MB/s, download path ${r.downloadMBps} MB/s ` +
      `(hash only ${r.hashPathMBps} MB/s), SHA-256 floor ${r.floorMBps} MB/s, peak RSS growth ` +
      `${r.peakRssGrowthMiB} MiB up, ${r.downloadPeakRssGrowthMiB} MiB down`,
  );
}
