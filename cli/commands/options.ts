import { type Command, InvalidArgumentError } from "commander";
import type { Context } from "../context.ts";

/** Options every command takes. */
export interface JsonOption {
  json?: boolean;
}

export interface PageOptions extends JsonOption {
  limit?: number;
  cursor?: string;
}

/** Adds `--json`, which every command has. */
export const withJson = (cmd: Command): Command => cmd.option("--json", "print the raw JSON response");

/** Adds `--limit` and `--cursor` for list routes. */
export const withPaging = (cmd: Command): Command =>
  cmd
    .option("--limit <n>", "how many items (1-100, default 20)", parseLimit)
    .option("--cursor <cursor>", "page cursor");

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError("must be a whole number from 1 to 100");
  return n;
}

/** Collects a repeatable option into an array. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Tells the user how to get the next page of a list, on stderr so piped output stays clean. */
export function pageFooter(ctx: Context, nextCursor: string | null | undefined): void {
  if (nextCursor) ctx.note(`more: --cursor ${nextCursor}`);
}

/** Prints either the raw JSON or the human lines. */
export function output(ctx: Context, opts: JsonOption, raw: unknown, human: () => string | readonly string[]): void {
  if (opts.json) ctx.json(raw);
  else ctx.print(human());
}
