/** Counters of billable work, read by the benchmark. */
export class CostMeter {
  transitions = 0;
  handlerCalls = 0;
  dynamoWrites = 0;
  s3Puts = 0;
  snapshot(): { transitions: number; handlerCalls: number; dynamoWrites: number; s3Puts: number } {
    return {
      transitions: this.transitions,
      handlerCalls: this.handlerCalls,
      dynamoWrites: this.dynamoWrites,
      s3Puts: this.s3Puts,
    };
  }
}
