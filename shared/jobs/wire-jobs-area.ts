import type { Deps } from "../deps.ts";
import { onWorkflowRunChange } from "./job-run-engine.ts";
import type { JobRunOrchestrator, JobsArea } from "./jobs-area.ts";

/**
 * Wires the jobs area into deps: its services, and the run listener that moves job runs along when one of
 * their workflow runs changes. Every runtime whose code can change a run's status must call this (each
 * Lambda of the run state machine, the API, and the embedded server), or a job run would not notice its
 * workflow run ending until its wait re-checks.
 */
export function wireJobsArea(deps: Deps, orchestrator: JobRunOrchestrator): JobsArea {
  const area: JobsArea = { listeners: [], orchestrator };
  deps.areas.jobs = area;
  deps.runListeners.push((run, from) => onWorkflowRunChange(deps, run, from));
  return area;
}
