import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Context } from "aws-lambda";
import { makeReconcileJobHandler, makeRecordJobFailureHandler, makeRunNextHandler } from "../functions/job-handlers.ts";
import { PLATFORM_PRINCIPAL } from "../shared/access/auth.ts";
import { LocalStateMachine } from "../shared/adapters/embedded/local-step-functions.ts";
import type { Deps } from "../shared/deps.ts";
import { buildJobRunStateMachine, JOB_STATE } from "../shared/jobs/job-run-state-machine.ts";
import { putJob } from "../shared/jobs/jobs.ts";
import type { JobRunOrchestrator } from "../shared/ports/job-run-orchestrator.ts";
import type { CostMeter } from "../shared/ports/metrics.ts";
import type { Services } from "../shared/services.ts";
import type { Late } from "./late.ts";

/** Calls a Lambda handler in process the way the Lambda runtime would, tracked for a clean shutdown. */
export type LocalCall = <T>(
  handler: (event: unknown, context: Context) => Promise<T>,
  name: string,
) => (payload: unknown) => Promise<T>;

/** Loads the jobs in `<examples>/jobs/*.json` whose names do not exist yet into org `default`, after the workflows. */
export async function loadExampleJobs(deps: Deps, dir: string, log: (s: string) => void): Promise<void> {
  const jobsDir = join(dir, "jobs");
  if (!existsSync(jobsDir)) return;
  for (const file of (await readdir(jobsDir)).sort()) {
    if (!file.endsWith(".json")) continue;
    try {
      const doc = JSON.parse(await readFile(join(jobsDir, file), "utf8")) as { name?: unknown };
      const name = typeof doc.name === "string" ? doc.name : file.replace(/\.json$/, "");
      // Only a job of a new name: one that exists (edited or archived) is the user's now.
      if (await deps.repos.jobs.getJob(PLATFORM_PRINCIPAL.orgId, name)) continue;
      const res = await putJob(deps, PLATFORM_PRINCIPAL, name, doc);
      log(`  job ${name}${res.created ? " (new)" : ""}: ${res.body.workflowExecutionOrder.join(" → ")}`);
    } catch (err) {
      log(`  skipped jobs/${file}: ${(err as Error).message}`);
    }
  }
}

/**
 * The job-run state machine in the local interpreter with the same handlers as the cloud's Lambdas (built once
 * the services exist); its tokens are settled by the run orchestrator's sendTaskSuccess.
 */
export function localJobMachine(services: Late<Services>, call: LocalCall, meter: CostMeter) {
  const handlers = {
    runNext: (e: unknown, c: Context) => makeRunNextHandler(services.get())(e, c),
    recordFailure: (e: unknown, c: Context) => makeRecordJobFailureHandler(services.get())(e, c),
    reconcile: (e: unknown, c: Context) => makeReconcileJobHandler(services.get())(e, c),
  };
  const machine = new LocalStateMachine(
    {
      definition: buildJobRunStateMachine({ runNext: "job-run-next", recordFailure: "job-record-failure" }),
      tasks: { [JOB_STATE.recordFailure]: call(handlers.recordFailure, "job-record-failure") },
      waitForToken: { [JOB_STATE.runNext]: call(handlers.runNext, "job-run-next") },
      onAbnormalEnd: (detail) => call(handlers.reconcile, "job-reconcile")({ detail }),
    },
    meter,
  );
  const orchestrator: JobRunOrchestrator = {
    startJobRun: async (orgId, jobRunId) => machine.start(jobRunId, { orgId, jobRunId }),
    isRunning: (jobRunId) => machine.isRunning(jobRunId),
  };
  return {
    machine,
    orchestrator,
    /** Job runs that were going when the last process stopped carry on (in the cloud an execution outlives it). */
    async resume(deps: Deps, log: (line: string) => void): Promise<void> {
      const active = await deps.repos.jobs.listActiveJobRuns();
      for (const jr of active) machine.start(jr.jobRunId, jr);
      if (active.length) log(`resumed ${active.length} job run(s)`);
    },
  };
}
