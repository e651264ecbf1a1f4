import { ApiClient } from "./api-client.ts";
import { type CliEnv, resolveServer } from "./config.ts";

/** Somewhere text goes: process.stdout, process.stderr or a test buffer. */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Where secrets are read from; process.stdin in real use. */
export interface TextSource {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  off(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Everything the CLI touches outside itself, injected so commands run the same in tests. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  stdin: TextSource;
  env: CliEnv;
  cwd: string;
  fetch?: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** How often --wait polls; about 500 ms. */
  pollMs: number;
}

/** Per-invocation state shared by the commands: output helpers, colour decision and a lazily built client. */
export class Context {
  readonly io: CliIo;
  readonly color: boolean;
  /** Set by a command whose outcome (not a CLI error) should end the process non-zero, e.g. a failed run. */
  exitCode = 0;
  private clientPromise: Promise<ApiClient> | null = null;

  constructor(io: CliIo) {
    this.io = io;
    this.color = Boolean(io.stdout.isTTY) && !io.env.noColor;
  }

  /** The API client; the server is looked up only when a command needs it, so --help works without one. */
  client(): Promise<ApiClient> {
    this.clientPromise ??= resolveServer(this.io.env, this.io.cwd).then(
      (server) => new ApiClient({ baseUrl: server.url, apiKey: server.apiKey, fetch: this.io.fetch }),
    );
    return this.clientPromise;
  }

  /** Prints lines to stdout. */
  print(lines: string | readonly string[]): void {
    const all = typeof lines === "string" ? [lines] : lines;
    if (all.length) this.io.stdout.write(`${all.join("\n")}\n`);
  }

  /** Prints a value as pretty JSON to stdout. */
  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value ?? null, null, 2)}\n`);
  }

  /** Prints a note to stderr, where it does not mix with output meant for pipes. */
  note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }
}
