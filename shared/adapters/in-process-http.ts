import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { PassThrough, Readable } from "node:stream";
import type { HttpHandler } from "@smithy/core/protocols";
import { HttpResponse } from "@smithy/core/protocols";
import type { HttpHandlerOptions, HttpRequest } from "@smithy/types";

/** A Node HTTP request listener: what `http.createServer` is given (dynalite's handler, s3rver's Koa callback). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** encodeURIComponent plus the characters RFC 3986 reserves that it leaves alone, as the SDK's own handler does. */
const escapeUri = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function pathAndQuery(request: HttpRequest): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value === null || value === undefined) parts.push(escapeUri(key));
    else for (const v of Array.isArray(value) ? value : [value]) parts.push(`${escapeUri(key)}=${escapeUri(v)}`);
  }
  return `${request.path}${parts.length ? `?${parts.join("&")}` : ""}`;
}

/**
 * The response side: a real ServerResponse (so the emulator sets headers and status as it would on a socket) whose
 * bytes go to a stream the SDK reads, with backpressure, instead of to a socket. Headers are handed over when they
 * are committed (writeHead, or the first write or end).
 */
class CapturedResponse extends ServerResponse {
  readonly body = new PassThrough();
  private onHead: ((res: CapturedResponse) => void) | null;

  constructor(req: IncomingMessage, onHead: (res: CapturedResponse) => void) {
    super(req);
    this.onHead = onHead;
    this.body.on("drain", () => this.emit("drain"));
  }

  override writeHead(statusCode: number, ...rest: unknown[]): this {
    // Headers given to writeHead are set one by one, so getHeaders() sees them as it sees setHeader's.
    const message = typeof rest[0] === "string" ? rest[0] : undefined;
    const given = rest.find((a) => typeof a === "object" && a !== null);
    if (Array.isArray(given)) for (let i = 0; i + 1 < given.length; i += 2) this.setHeader(given[i], given[i + 1]);
    else if (given) for (const [k, v] of Object.entries(given)) if (v !== undefined) this.setHeader(k, v);
    super.writeHead(statusCode, message);
    const cb = this.onHead;
    this.onHead = null;
    cb?.(this);
    return this;
  }

  private commit(): void {
    if (!this.headersSent) this.writeHead(this.statusCode);
  }

  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    this.commit();
    const callback = typeof encoding === "function" ? encoding : cb;
    const enc = typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8";
    const buf = typeof chunk === "string" ? Buffer.from(chunk, enc) : (chunk as Uint8Array);
    return this.body.write(buf, typeof callback === "function" ? (callback as () => void) : undefined);
  }

  override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    if (this.writableEnded) return this;
    const callback = [chunk, encoding, cb].find((a) => typeof a === "function") as (() => void) | undefined;
    if (chunk !== undefined && chunk !== null && typeof chunk !== "function") this.write(chunk, encoding);
    this.commit();
    this.finished = true;
    this.body.end(() => {
      callback?.();
      this.emit("finish");
      this.emit("close");
    });
    return this;
  }
}

/**
 * A smithy HttpHandler that hands each request straight to an HTTP request listener in this process: no socket, no
 * HTTP parsing, the same requests and responses (signed, serialized, parsed by the same client code as over TCP).
 * The embedded mode gives it the emulators' listeners (local/emulator-transport.ts).
 */
export class InProcessHttpHandler implements HttpHandler<Record<string, never>> {
  constructor(private readonly listener: RequestListener) {}

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    return new Promise((resolve, reject) => {
      const signal = options.abortSignal;
      if (signal?.aborted) {
        reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
        return;
      }
      // An unconnected socket: never readable or written; the listener's framework reads its address fields.
      const req = new IncomingMessage(new Socket());
      req.method = request.method;
      req.url = pathAndQuery(request);
      req.httpVersion = "1.1";
      req.httpVersionMajor = 1;
      req.httpVersionMinor = 1;
      const headers: Record<string, string> = {};
      const raw: string[] = [];
      for (const [k, v] of Object.entries(request.headers)) {
        headers[k.toLowerCase()] = v;
        raw.push(k, v);
      }
      headers.host ??= request.port ? `${request.hostname}:${request.port}` : request.hostname;
      req.headers = headers;
      req.rawHeaders = raw;
      const res = new CapturedResponse(req, (r) => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.getHeaders()))
          if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : String(v);
        resolve({
          response: new HttpResponse({ statusCode: r.statusCode, reason: r.statusMessage, headers: out, body: r.body }),
        });
      });
      const onAbort = () => {
        const err = Object.assign(new Error("Request aborted"), { name: "AbortError" });
        req.destroy(err);
        res.body.destroy(err);
        reject(err);
      };
      // The SDK passes a DOM-style AbortSignal (or smithy's older shape, which only has onabort).
      if (signal && "addEventListener" in signal) {
        signal.addEventListener("abort", onAbort, { once: true });
        res.body.once("close", () => signal.removeEventListener("abort", onAbort));
      }
      this.feed(req, request.body);
      try {
        this.listener(req, res);
      } catch (err) {
        reject(err);
      }
    });
  }

  /** Streams the request body into the request, pausing the source while the listener has not read on. */
  private feed(req: IncomingMessage, body: unknown): void {
    const done = () => {
      req.complete = true;
      req.push(null);
    };
    if (body === undefined || body === null) {
      done();
      return;
    }
    if (typeof body === "string" || body instanceof Uint8Array) {
      if (body.length) req.push(typeof body === "string" ? Buffer.from(body) : body);
      done();
      return;
    }
    if (!(body instanceof Readable)) throw new TypeError("the in-process transport takes string, bytes or a Readable");
    req._read = () => {
      body.resume();
    };
    body.on("data", (chunk: Buffer) => {
      if (!req.push(chunk)) body.pause();
    });
    body.once("end", done);
    body.once("error", (err) => req.destroy(err));
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}
