import type { Deps } from "../deps.ts";
import type { Principal } from "../domain/records.ts";
import { JobParametersSchema } from "./job-records.ts";
import { onWorkflowRunChange } from "./job-run-engine.ts";
import { createJobRun, parseBody } from "./jobs.ts";
import type { JobRunOrchestrator, JobsArea } from "./jobs-area.ts";

/**
 * Wires the jobs area into deps: its services, and the run listener that moves job runs along when one of
 * their workflow runs changes. Every runtime whose code can change a run's status must call this (each
 * Lambda of the run state machine, the API, the trigger functions, and the embedded server), or a job run
 * would not notice its workflow run ending until its wait re-checks.
 */
export function wireJobsArea(deps: Deps, orchestrator: JobRunOrchestrator): JobsArea {
  const area: JobsArea = {
    listeners: [],
    orchestrator,
    startJobRun: async (req) => {
      const p: Principal = {
        orgId: req.orgId,
        keyId: "area",
        role: "operator",
        userId: req.createdBy,
        platform: false,
      };
      return createJobRun(deps, p, req.job, {
        parameters: parseBody(JobParametersSchema, req.parameters, "parameters"),
        trigger: req.trigger,
        idempotencyKey: req.idempotencyKey,
      });
    },
  };
  deps.areas.jobs = area;
  deps.runListeners.push((run, from) => onWorkflowRunChange(deps, run, from));
  return area;
}
