import type { Context } from "aws-lambda";

/** The Lambda context embedded mode hands the same handlers the cloud invokes: 15 minutes, like Advance's ceiling. */
export const lambdaContext = (name: string): Context =>
  ({
    functionName: name,
    awsRequestId: "local",
    getRemainingTimeInMillis: () => 900_000,
    callbackWaitsForEmptyEventLoop: false,
  }) as unknown as Context;
