/** The two workflows the benchmark runs: a 10-node diamond of trivial commands and a chain of 10 scripts. */

export interface CommandNode {
  id: string;
  type: "command";
  needs?: string[];
  command: string;
  timeoutSeconds?: number;
}

export interface ScriptNode {
  id: string;
  type: "script";
  runtime: "node";
  needs?: string[];
  code: string;
}

export interface BenchWorkflow {
  name: string;
  description: string;
  nodes: Array<CommandNode | ScriptNode>;
}

const FAN_OUT = 8;
const CHAIN_LENGTH = 10;

/** 1 → 8 parallel → 1 command nodes, each an `echo` (so each node also leaves a one-line log). */
export const diamond: BenchWorkflow = {
  name: "bench-diamond",
  description: "benchmark: 1 -> 8 parallel -> 1 trivial command nodes",
  nodes: [
    { id: "start", type: "command", command: "echo start" },
    ...Array.from({ length: FAN_OUT }, (_, i) => ({
      id: `fan-${i + 1}`,
      type: "command" as const,
      needs: ["start"],
      command: `echo fan-${i + 1}`,
    })),
    {
      id: "join",
      type: "command",
      needs: Array.from({ length: FAN_OUT }, (_, i) => `fan-${i + 1}`),
      command: "echo join",
    },
  ],
};

/**
 * The diamond again, made to run in the Standard lane: its join may run longer than an Express execution lasts
 * (timeoutSeconds 600), so the run takes a Standard execution; everything else is the same.
 */
export const diamondStandard: BenchWorkflow = {
  name: "bench-diamond-standard",
  description: "benchmark: the diamond in the Standard lane (its join's timeout is past Express's 5 minutes)",
  nodes: diamond.nodes.map((n) => (n.id === "join" ? { ...n, timeoutSeconds: 600 } : n)),
};

/** The same tiny script in every node: it bumps a counter in the run context, so the chain's result is checkable. */
export const CHAIN_SCRIPT = "export default async ({ context }) => ({ step: (context.step ?? 0) + 1 });\n";

/** 10 node scripts, each needing the previous one. */
export const chain: BenchWorkflow = {
  name: "bench-chain",
  description: "benchmark: a chain of 10 node script nodes",
  nodes: Array.from({ length: CHAIN_LENGTH }, (_, i) => ({
    id: `s${String(i + 1).padStart(2, "0")}`,
    type: "script" as const,
    runtime: "node" as const,
    ...(i > 0 ? { needs: [`s${String(i).padStart(2, "0")}`] } : {}),
    code: CHAIN_SCRIPT,
  })),
};

/** A workflow as the benchmark measures it: a short label and what every finished run must show. */
export interface BenchCase {
  label: string;
  workflow: BenchWorkflow;
  /** The run context's `step` a succeeded run must end with, or null when the workflow writes none. */
  expectedStep: number | null;
}

export const CASES: BenchCase[] = [
  { label: "diamond (10 cmd)", workflow: diamond, expectedStep: null },
  { label: "chain (10 script)", workflow: chain, expectedStep: CHAIN_LENGTH },
  // Not named "diamond": `BENCH_CASES=diamond` and readers of the JSON find the Express diamond by that word.
  { label: "1-8-1 (10 cmd, Standard)", workflow: diamondStandard, expectedStep: null },
];
