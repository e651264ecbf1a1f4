/** Where a task attempt's combined log lives in the blob store. */
export const logKey = (orgId: string, runId: string, nodeId: string, attempt: number): string =>
  `orgs/${orgId}/runs/${runId}/logs/${nodeId}/${attempt}.log`;

/** Where a run file's bytes live in the blob store. */
export const fileKey = (orgId: string, runId: string, path: string): string =>
  `orgs/${orgId}/runs/${runId}/files/${path}`;
