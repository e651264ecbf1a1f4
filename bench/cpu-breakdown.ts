/**
 * Where the embedded engine's CPU goes, from a V8 CPU profile of a benchmark:
 *
 *   node --cpu-prof --cpu-prof-dir=prof --import tsx bench/run.ts   (BENCH_CASES=diamond …)
 *   node --import tsx bench/cpu-breakdown.ts prof/CPU.*.cpuprofile
 *
 * Self time is grouped into the parts that matter here: process spawns, the DynamoDB emulator and its LevelDB,
 * the SDK (serialize, SigV4, parse), Node's HTTP and sockets, hashing, garbage collection, the project's own code.
 */
import { readFileSync } from "node:fs";
import { fmt, formatTable } from "./stats.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const GROUPS: Array<[string, RegExp]> = [
  ["process spawns (fork/exec in this process)", /^node:(internal\/)?child_process/],
  ["DynamoDB emulator (dynalite)", /node_modules\/dynalite\//],
  [
    "LevelDB under dynalite",
    /node_modules\/(classic-level|abstract-level|level[-a-z]*|memdown|lock|lazy|once|big-integer)\//,
  ],
  ["S3 emulator (s3rver, koa)", /node_modules\/(s3rver|koa[-a-z]*|@koa|xmlbuilder2|fast-xml-parser)\//],
  ["AWS SDK: SigV4 signing", /node_modules\/@smithy\/signature-v4\//],
  ["AWS SDK: serialize, middleware, parse", /node_modules\/(@smithy|@aws-sdk|@aws-crypto)\//],
  ["HTTP and sockets (node:http, net, undici)", /^node:(internal\/)?(_http|http|net|stream_base|deps\/undici|dns)/],
  ["hashing (node:crypto)", /^node:(internal\/)?crypto/],
  [
    "state machine interpreter (aws-local-stepfunctions)",
    /node_modules\/(aws-local-stepfunctions|jsonpath|ajv|asl-validator)/,
  ],
  ["validation (zod)", /node_modules\/zod\//],
  ["module loading (tsx, esm, cjs)", /node_modules\/(tsx|esbuild)\/|^node:(internal\/)?modules/],
  ["project code (shared, functions, local)", /\/(shared|functions|local)\//],
  ["benchmark itself (bench/)", /\/bench\//],
  ["other Node internals", /^node:/],
  ["other packages", /node_modules\//],
];

function groupOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName === "(garbage collector)") return "garbage collection";
    if (functionName === "(idle)") return "idle (waiting: child processes, disk, timers)";
    if (functionName === "(program)") return "V8/native, unattributed";
    return "native calls (fs, writev, …)";
  }
  return GROUPS.find(([, re]) => re.test(url))?.[0] ?? "other";
}

export function cpuBreakdown(profile: CpuProfile): Array<{ group: string; ms: number; share: number }> {
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const byGroup = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    total += ms;
    byGroup.set(groupOf(node), (byGroup.get(groupOf(node)) ?? 0) + ms);
  }
  return [...byGroup].map(([group, ms]) => ({ group, ms, share: total ? ms / total : 0 })).sort((a, b) => b.ms - a.ms);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) {
    const rows = cpuBreakdown(JSON.parse(readFileSync(file, "utf8")) as CpuProfile);
    const total = rows.reduce((n, r) => n + r.ms, 0);
    process.stdout.write(
      `${file}: ${fmt(total / 1000, 1)} s sampled\n${formatTable(
        ["part (self time)", "ms", "share"],
        rows.map((r) => [r.group, fmt(r.ms, 0), `${fmt(r.share * 100, 1)}%`]),
      )}\n`,
    );
  }
}
