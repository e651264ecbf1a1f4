import { bundleFilePath, bundleLogPath } from "./bundle-paths.ts";

/** Which entry of a bundle a verify problem is about, read from the problem's wording (see verify.ts). */
const WHERE: Array<[RegExp, (m: RegExpMatchArray) => string]> = [
  [/^file '(.+)' \(written by '(.+?)', attempt (\d+)\)/, (m) => bundleFilePath(m[2] ?? "", Number(m[3]), m[1] ?? "")],
  [/^the log of task '(.+?)' attempt (\d+) kept in its record/, () => "records/tasks.json"],
  [/^the log of task '(.+?)' attempt (\d+)/, (m) => bundleLogPath(m[1] ?? "", Number(m[2]))],
  [/^audit event \d+/, () => "records/audit.json"],
  [/^the run record/, () => "records/run.json"],
  [/^the record of task '/, () => "records/tasks.json"],
  [/^task '.+?' attempt \d+ read /, () => "records/tasks.json"],
  [/^the (stored )?workflow definition/, () => "records/workflow.json"],
  [/^the evidence manifest recomputed/, () => "records/run.json, records/tasks.json"],
];

/** The bundle entry a problem found by verifyMaterial is about, or null when it is about the whole bundle. */
export function bundleEntryOf(problem: string): string | null {
  for (const [re, where] of WHERE) {
    const m = problem.match(re);
    if (m) return where(m);
  }
  return null;
}

/** A problem prefixed with the bundle entry that broke, so `stepwise verify` names the file to look at. */
export function withBundleEntry(problem: string): string {
  const entry = bundleEntryOf(problem);
  return entry ? `${entry}: ${problem}` : problem;
}
