import { once } from "node:events";
import type { Writable } from "node:stream";

// A small ustar writer and reader (with pax headers for long or non-ASCII names): just what evidence bundles need,
// streaming both ways so a bundle with large files never sits in memory.

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: string, size: number, type: "0" | "x", mtimeSec: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  h.write(octal(0o644, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(Math.floor(mtimeSec), 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write(type, 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

/** A pax record "<len> key=value\n", where len counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** Writes tar entries to a stream, honouring backpressure. */
export class TarWriter {
  constructor(
    private readonly out: Writable,
    private readonly mtimeSec = Math.floor(Date.now() / 1000),
  ) {}

  private async write(chunk: Buffer): Promise<void> {
    if (!this.out.write(chunk)) await once(this.out, "drain");
  }

  /** Adds a file; `data` is its bytes or a stream of exactly `size` bytes. */
  async add(name: string, data: Buffer | AsyncIterable<Uint8Array>, size?: number): Promise<void> {
    const length = Buffer.isBuffer(data) ? data.length : size;
    if (length === undefined) throw new Error(`tar: the size of ${name} is needed for a stream`);
    const nameBytes = Buffer.byteLength(name);
    // eslint-style ASCII check: ustar names are bytes, pax carries anything longer or non-ASCII.
    if (nameBytes > 100 || !/^[\x20-\x7e]*$/.test(name)) {
      const pax = Buffer.from(paxRecord("path", name), "utf8");
      await this.write(
        header(`PaxHeader/${name.slice(0, 80).replace(/[^\x20-\x7e]/g, "_")}`, pax.length, "x", this.mtimeSec),
      );
      await this.write(pax);
      await this.write(Buffer.alloc(padding(pax.length)));
    }
    await this.write(header(name.slice(0, 100).replace(/[^\x20-\x7e]/g, "_"), length, "0", this.mtimeSec));
    if (Buffer.isBuffer(data)) await this.write(data);
    else {
      let written = 0;
      for await (const chunk of data) {
        written += chunk.length;
        if (written > length) throw new Error(`tar: ${name} is longer than the ${length} bytes announced`);
        await this.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      }
      if (written !== length) throw new Error(`tar: ${name} has ${written} bytes, not the ${length} announced`);
    }
    await this.write(Buffer.alloc(padding(length)));
  }

  /** Writes the end-of-archive marker (two zero blocks). */
  async finish(): Promise<void> {
    await this.write(Buffer.concat([ZERO_BLOCK, ZERO_BLOCK]));
  }
}

/** Exact-size reads over an async stream of chunks. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  async read(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) if (!(await this.pull())) return null;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Up to `max` bytes, at least one; throws at the end of the stream. */
  async next(max: number): Promise<Buffer> {
    if (this.buf.length === 0 && !(await this.pull())) throw new Error("tar: the archive ends inside an entry");
    const take = Math.min(max, this.buf.length);
    const out = this.buf.subarray(0, take);
    this.buf = this.buf.subarray(take);
    return out;
  }
}

export interface TarEntry {
  name: string;
  size: number;
  /** The entry's bytes; whatever the caller leaves unread is skipped. */
  body: AsyncGenerator<Buffer>;
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? len : end).toString("utf8");
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number(data.subarray(pos, space).toString("ascii"));
    if (!Number.isInteger(len) || len <= 0) throw new Error("tar: a pax header is malformed");
    const record = data.subarray(space + 1, pos + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Reads the regular-file entries of a tar stream, one at a time. */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  let paxPath: string | null = null;
  for (;;) {
    const h = await reader.read(BLOCK);
    if (!h || h.equals(ZERO_BLOCK)) return;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    if (Number.parseInt(field(h, 148, 8).trim(), 8) !== sum) throw new Error("tar: a header checksum does not match");
    const size = Number.parseInt(field(h, 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(h[156] as number);
    const prefix = field(h, 345, 155);
    const plain = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
    if (type === "x" || type === "g") {
      const data = await reader.read(size + padding(size));
      if (!data) throw new Error("tar: the archive ends inside a pax header");
      if (type === "x") paxPath = parsePax(data.subarray(0, size)).path ?? null;
      continue;
    }
    const name = paxPath ?? plain;
    paxPath = null;
    // The count lives outside the generator: a consumer that stops early (or never starts) leaves it accurate.
    const left = { n: size };
    const body = (async function* () {
      while (left.n > 0) {
        const chunk = await reader.next(left.n);
        left.n -= chunk.length;
        yield chunk;
      }
    })();
    if (type === "0" || type === "\0") yield { name, size, body };
    while (left.n > 0) left.n -= (await reader.next(left.n)).length;
    if (!(await reader.read(padding(size)))) {
      if (padding(size) > 0) throw new Error("tar: the archive ends inside an entry's padding");
    }
  }
}
