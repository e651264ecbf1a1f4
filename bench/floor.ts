import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { BenchWorkflow } from "./workflows.ts";

/**
 * The floor: the same commands and scripts spawned directly, in the same DAG order and parallelism, with none of
 * the engine's records, logs, state machine or HTTP. Command nodes are `/bin/sh -c …`; script nodes run `node` on
 * a runner that imports the module and calls its default export, as the engine's script runner does.
 */

// The same steps as the engine's runner (shared/adapters/process/run-process.ts): read the input, import, call, write result.
const RUNNER = `import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const input = JSON.parse(readFileSync(process.env.STEPWISE_INPUT, "utf8"));
const mod = await import(pathToFileURL(process.env.STEPWISE_SCRIPT).href);
const result = await mod.default({ params: input.params, context: input.context, run: input.run, secrets: {} });
writeFileSync(process.env.STEPWISE_RESULT, JSON.stringify(result === undefined ? null : result));
`;

export interface Floor {
  /** Runs the whole DAG once; resolves with the final context (script results merged as they finish). */
  run(): Promise<Record<string, unknown>>;
  /** Removes the floor's scratch directory. */
  close(): Promise<void>;
}

/** Spawns a process with piped, drained output (as the engine does) and rejects unless it exits 0. */
function spawnAndWait(argv: string[], cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stdout.on("data", () => {});
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${argv.join(" ")} exited with ${code}: ${stderr.slice(0, 300)}`)),
    );
  });
}

/** Prepares the floor of a workflow: writes the runner and the script modules once. */
export async function prepareFloor(wf: BenchWorkflow): Promise<Floor> {
  const dir = await mkdtemp(join(tmpdir(), "stepwise-bench-floor-"));
  const runnerPath = join(dir, "runner.mjs");
  await writeFile(runnerPath, RUNNER);
  for (const node of wf.nodes) if (node.type === "script") await writeFile(join(dir, `${node.id}.mjs`), node.code);
  const env = { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, LANG: "C.UTF-8", TZ: "UTC" };
  let seq = 0;

  return {
    async run() {
      const runNo = ++seq;
      const context: Record<string, unknown> = {};
      const done = new Map<string, Promise<void>>();
      const start = (id: string): Promise<void> => {
        const existing = done.get(id);
        if (existing) return existing;
        const node = wf.nodes.find((n) => n.id === id);
        if (!node) throw new Error(`unknown node '${id}'`);
        const p = (async () => {
          await Promise.all((node.needs ?? []).map(start));
          if (node.type === "command") {
            await spawnAndWait(["/bin/sh", "-c", node.command], dir, env);
            return;
          }
          const input = join(dir, `${runNo}-${id}.input.json`);
          const result = join(dir, `${runNo}-${id}.result.json`);
          await writeFile(
            input,
            JSON.stringify({ params: {}, context: { ...context }, run: { id: `floor-${runNo}` } }),
          );
          await spawnAndWait([process.execPath, runnerPath], dir, {
            ...env,
            STEPWISE_INPUT: input,
            STEPWISE_SCRIPT: join(dir, `${id}.mjs`),
            STEPWISE_RESULT: result,
          });
          Object.assign(context, JSON.parse(await readFile(result, "utf8")) as Record<string, unknown>);
          await rm(input);
          await rm(result);
        })();
        done.set(id, p);
        return p;
      };
      await Promise.all(wf.nodes.map((n) => start(n.id)));
      return context;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
