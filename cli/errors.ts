/** A problem the CLI reports itself (bad arguments, unreadable file, no server): one line, optional detail lines. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly details: string[];
  readonly exitCode: number;
  constructor(message: string, details: string[] = [], exitCode = 1) {
    super(message);
    this.details = details;
    this.exitCode = exitCode;
  }
}
