/** Counters of billable work, read by the benchmark. */
export class CostMeter {
  transitions = 0;
  handlerCalls = 0;
  dynamoWrites = 0;
  s3Puts = 0;
  /** ECS RunTask calls: one per container attempt in the cloud (Fargate bills the task's vCPU and GB seconds). */
  ecsRunTasks = 0;
  /** ECS DescribeTasks calls: the digest and exit code of a stopped attempt (free, but throttled per account). */
  ecsDescribeTasks = 0;
  /** Invocations of users' Lambda functions by lambda nodes. */
  lambdaInvokes = 0;
  snapshot(): {
    transitions: number;
    handlerCalls: number;
    dynamoWrites: number;
    s3Puts: number;
    ecsRunTasks: number;
    ecsDescribeTasks: number;
    lambdaInvokes: number;
  } {
    return {
      transitions: this.transitions,
      handlerCalls: this.handlerCalls,
      dynamoWrites: this.dynamoWrites,
      s3Puts: this.s3Puts,
      ecsRunTasks: this.ecsRunTasks,
      ecsDescribeTasks: this.ecsDescribeTasks,
      lambdaInvokes: this.lambdaInvokes,
    };
  }
}
