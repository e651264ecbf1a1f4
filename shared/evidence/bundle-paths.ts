/** Where a file version sits inside an evidence bundle. */
export const bundleFilePath = (nodeId: string, attempt: number, path: string) => `files/${nodeId}/${attempt}/${path}`;
/** Where an attempt's log sits inside an evidence bundle. */
export const bundleLogPath = (nodeId: string, attempt: number) => `logs/${nodeId}/${attempt}.log`;
