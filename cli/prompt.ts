import type { TextSink, TextSource } from "./context.ts";
import { CliError } from "./errors.ts";

/**
 * Reads one line from a terminal without echoing it (raw mode), for secret input fields.
 * Backspace edits, Enter ends, Ctrl-C or Ctrl-D aborts.
 */
export function promptSecret(stdin: TextSource, stderr: TextSink, label: string): Promise<string> {
  if (!stdin.isTTY || !stdin.setRawMode) {
    return Promise.reject(new CliError(`cannot prompt for ${label}: stdin is not a terminal`));
  }
  const setRaw = stdin.setRawMode.bind(stdin);
  stderr.write(`${label}: `);
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (error?: CliError) => {
      stdin.off("data", onData);
      setRaw(false);
      stdin.pause();
      stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003" || ch === "\u0004") return finish(new CliError("cancelled", [], 130));
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    setRaw(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}
