import type { Context } from "aws-lambda";

/** The Lambda context embedded mode hands the same handlers the cloud invokes: 15 minutes, like Advance's ceiling. */
export const lambdaContext = (name: string): Context => ({
  functionName: name,
  functionVersion: "$LATEST",
  invokedFunctionArn: `local:${name}`,
  memoryLimitInMB: "1024",
  awsRequestId: "local",
  logGroupName: `/local/${name}`,
  logStreamName: "local",
  getRemainingTimeInMillis: () => 900_000,
  callbackWaitsForEmptyEventLoop: false,
  // The deprecated callback-style completions: the handlers are async and never call them.
  done: () => {},
  fail: () => {},
  succeed: () => {},
});
