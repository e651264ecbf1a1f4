import { Command, CommanderError } from "commander";
import { ApiError } from "./api-client.ts";
import { registerJobCommands } from "./commands/jobs.ts";
import { registerKeyCommands } from "./commands/keys.ts";
import { registerOperateCommands } from "./commands/operate.ts";
import { registerRunsCommands } from "./commands/runs.ts";
import { registerTriggerCommands } from "./commands/triggers.ts";
import { registerRunCommand, registerWorkflowCommands } from "./commands/workflows.ts";
import { readCliEnv } from "./config.ts";
import { type CliIo, Context } from "./context.ts";
import { CliError } from "./errors.ts";
import { registerEvidenceCommands } from "./evidence-commands.ts";

/** The commander program with every command registered against one invocation's context. */
export function buildProgram(ctx: Context): Command {
  const program = new Command("stepwise")
    .description("Run workflows on Stepwise and inspect their auditable record")
    // Settings made before .command() are inherited by every subcommand.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .showSuggestionAfterError()
    .helpCommand(true);

  registerWorkflowCommands(program, ctx);
  registerRunCommand(program, ctx);
  registerRunsCommands(program, ctx);
  registerEvidenceCommands(program, ctx); // `runs export`, `runs diff` and `verify`
  registerJobCommands(program, ctx);
  registerTriggerCommands(program, ctx);
  registerKeyCommands(program, ctx);
  registerOperateCommands(program, ctx); // extends runs, workflow and jobs
  return program;
}

/** Turns any failure into `error: <message>` plus detail lines on stderr, never a stack trace; returns the exit code. */
export function reportError(ctx: Context, err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its own `error: …` line (or the help text).
    return err.exitCode;
  }
  let message: string;
  let details: string[] = [];
  let code = 1;
  if (err instanceof ApiError) {
    message = err.message;
    details = err.details
      .filter((d) => d.message !== err.message)
      .map((d) => (d.path && !d.message.includes(d.path) ? `${d.path}: ${d.message}` : d.message));
    // The codes that say something the message may not: who may do what.
    if (err.status === 401)
      details.push("the API key was not accepted: check STEPWISE_API_KEY or .stepwise/local.json");
    if (err.status === 403) details.push("the API key's role does not allow this");
  } else if (err instanceof CliError) {
    message = err.message;
    details = err.details;
    code = err.exitCode;
  } else {
    message = err instanceof Error ? err.message : String(err);
  }
  // Multi-line server messages would break the one-line contract of the error line.
  const [first = "unknown error", ...rest] = message.split("\n");
  const lines = [`error: ${first}`, ...[...rest, ...details].filter((l) => l.trim() !== "").map((l) => `  ${l}`)];
  ctx.io.stderr.write(`${lines.join("\n")}\n`);
  return code;
}

/** Runs the CLI with the given arguments (without `node` and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const ctx = new Context(io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ctx.exitCode;
  } catch (err) {
    return reportError(ctx, err);
  }
}

/** The real process: its streams, environment and clock. */
export function processIo(): CliIo {
  // `stepwise runs logs … | head` closes the pipe early; that is not an error worth a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: readCliEnv(),
    cwd: process.cwd(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    pollMs: 500,
  };
}
