import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { makeReconcileJobHandler, makeRecordJobFailureHandler, makeRunNextHandler } from "../functions/job-handlers.ts";
import { LocalStateMachine } from "../shared/adapters/local-step-functions.ts";
import type { Deps } from "../shared/deps.ts";
import { buildJobRunStateMachine, JOB_STATE } from "../shared/jobs/job-run-state-machine.ts";
import { getJobItem } from "../shared/jobs/job-store.ts";
import { putJob } from "../shared/jobs/jobs.ts";
import { wireJobsArea } from "../shared/jobs/wire-jobs-area.ts";
import { PLATFORM_PRINCIPAL } from "../shared/use-cases/auth.ts";
import type { LocalAreaWiring } from "./area-wiring.ts";

/**
 * Job runs that were going when the last process stopped. Embedded only: in the cloud an execution outlives
 * any process. A scan, like the run store's listActiveRuns, since no org-scoped query spans every org; it
 * reaches the store's document client because the ItemStore port has no scan.
 */
async function activeJobRuns(deps: Deps): Promise<Array<{ orgId: string; jobRunId: string }>> {
  const raw = deps.store as unknown as { db?: DynamoDBDocumentClient; table?: string };
  if (!raw.db || !raw.table) return [];
  const out: Array<{ orgId: string; jobRunId: string }> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await raw.db.send(
      new ScanCommand({
        TableName: raw.table,
        FilterExpression: "sk = :jr AND #s IN (:p, :i)",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":jr": "JOBRUN", ":p": "pending", ":i": "in_progress" },
        ProjectionExpression: "orgId, jobRunId",
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const i of res.Items ?? []) out.push({ orgId: String(i.orgId), jobRunId: String(i.jobRunId) });
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Loads every job in `<examples>/jobs/*.json` into org `default`, after the example workflows. */
async function loadExampleJobs(deps: Deps, dir: string, log: (s: string) => void): Promise<void> {
  const jobsDir = join(dir, "jobs");
  if (!existsSync(jobsDir)) return;
  const admin = PLATFORM_PRINCIPAL;
  for (const file of (await readdir(jobsDir)).sort()) {
    if (!file.endsWith(".json")) continue;
    try {
      const doc = JSON.parse(await readFile(join(jobsDir, file), "utf8")) as { name?: unknown };
      const name = typeof doc.name === "string" ? doc.name : file.replace(/\.json$/, "");
      // Only a job of a new name: one that exists (edited or archived) is the user's now.
      if (await getJobItem(deps.store, admin.orgId, name)) continue;
      const res = await putJob(deps, admin, name, doc);
      log(`  job ${name}${res.created ? " (new)" : ""}: ${res.body.workflowExecutionOrder.join(" → ")}`);
    } catch (err) {
      log(`  skipped jobs/${file}: ${(err as Error).message}`);
    }
  }
}

/**
 * Embedded-mode wiring of jobs: the job-run state machine in the local interpreter with the same handlers
 * as the cloud's Lambdas, its tokens settled by the run orchestrator's sendTaskSuccess, the run listener
 * that moves job runs along, example jobs, and job runs resumed from where their records say they are.
 */
export const wire: LocalAreaWiring = async (deps, ctx) => {
  const machine = new LocalStateMachine(
    {
      definition: buildJobRunStateMachine({ runNext: "job-run-next", recordFailure: "job-record-failure" }),
      tasks: { [JOB_STATE.recordFailure]: ctx.call(makeRecordJobFailureHandler(deps), "job-record-failure") },
      waitForToken: { [JOB_STATE.runNext]: ctx.call(makeRunNextHandler(deps), "job-run-next") },
      onAbnormalEnd: (detail) => ctx.call(makeReconcileJobHandler(deps), "job-reconcile")({ detail }),
    },
    deps.meter,
  );
  ctx.orchestrator.addMachine(machine);
  wireJobsArea(deps, {
    startJobRun: async (orgId, jobRunId) => machine.start(jobRunId, { orgId, jobRunId }),
    isRunning: (jobRunId) => machine.isRunning(jobRunId),
  });
  return {
    async start() {
      if (ctx.examplesDir) await loadExampleJobs(deps, ctx.examplesDir, ctx.log);
      const active = await activeJobRuns(deps);
      for (const jr of active) machine.start(jr.jobRunId, jr);
      if (active.length) ctx.log(`resumed ${active.length} job run(s)`);
    },
    async stop() {
      machine.shutdown();
    },
  };
};
