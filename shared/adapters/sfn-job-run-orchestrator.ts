import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { JobRunOrchestrator } from "../ports/job-run-orchestrator.ts";

/**
 * The job-run orchestrator on AWS Step Functions: one Standard execution of the job-run state machine per
 * job run, named after the jobRunId (so a repeated start is harmless). Its tokens are completed through the
 * run Orchestrator's sendTaskSuccess, which works for any execution's token.
 */
export class SfnJobRunOrchestrator implements JobRunOrchestrator {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  /** The adapter for the job-run state machine at `stateMachineArn` (JOB_STATE_MACHINE_ARN). */
  static create(stateMachineArn: string): SfnJobRunOrchestrator {
    return new SfnJobRunOrchestrator(new SFNClient({}), stateMachineArn);
  }

  async startJobRun(orgId: string, jobRunId: string): Promise<void> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: jobRunId,
          input: JSON.stringify({ jobRunId, orgId }),
        }),
      );
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
    }
  }
}
