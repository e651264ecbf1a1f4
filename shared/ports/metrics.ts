/**
 * Counters of billable work: read by the benchmark, and published per invocation as metrics in the cloud
 * (shared/adapters/powertools.ts), so the cost floor is visible in production too.
 */
export class CostMeter {
  /** Step Functions state transitions (Standard bills each one). */
  transitions = 0;
  /** Invocations of Stepwise's own Lambda functions. */
  handlerCalls = 0;
  /** DynamoDB write requests. */
  dynamoWrites = 0;
  /** DynamoDB write request units, as DynamoDB reports them (ReturnConsumedCapacity), the billed figure. */
  dynamoWriteUnits = 0;
  s3Puts = 0;
  /** ECS RunTask calls: one per container attempt in the cloud (Fargate bills the task's vCPU and GB seconds). */
  ecsRunTasks = 0;
  /** ECS DescribeTasks calls: the digest and exit code of a stopped attempt (free, but throttled per account). */
  ecsDescribeTasks = 0;
  /** Invocations of users' Lambda functions by lambda nodes. */
  lambdaInvokes = 0;
  /** The counters now (a copy). */
  snapshot(): CostCounts {
    return {
      transitions: this.transitions,
      handlerCalls: this.handlerCalls,
      dynamoWrites: this.dynamoWrites,
      dynamoWriteUnits: this.dynamoWriteUnits,
      s3Puts: this.s3Puts,
      ecsRunTasks: this.ecsRunTasks,
      ecsDescribeTasks: this.ecsDescribeTasks,
      lambdaInvokes: this.lambdaInvokes,
    };
  }
}

/** The counters of a CostMeter at one instant. */
export type CostCounts = {
  [K in
    | "transitions"
    | "handlerCalls"
    | "dynamoWrites"
    | "dynamoWriteUnits"
    | "s3Puts"
    | "ecsRunTasks"
    | "ecsDescribeTasks"
    | "lambdaInvokes"]: number;
};
