import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { ExportJob, ExportWorker } from "../ports/export-worker.ts";

/**
 * The cloud's export worker: the `exportBundle` function invoked asynchronously (Lambda queues the event and
 * answers 202 at once; the function has 15 minutes, where the API call that asked has 29 seconds).
 */
export class LambdaExportWorker implements ExportWorker {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async start(job: ExportJob): Promise<void> {
    const res = await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: "Event",
        Payload: Buffer.from(JSON.stringify(job), "utf8"),
      }),
    );
    if (res.StatusCode !== 202) throw new Error(`the export function did not accept the job (HTTP ${res.StatusCode})`);
  }
}
