// Powertools for AWS Lambda behind Stepwise's ports: the Logger port on Powertools' JSON logger, the CostMeter
// forwarded to Metrics (CloudWatch EMF), and the Tracer that captures the SDK clients. Built once per function by
// the cloud's composition root (functions/cloud-services.ts), named from its configuration.

import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { type CloudConfig, ENV } from "../config.ts";
import type { Logger, RunKeys } from "../ports/logger.ts";
import type { CostCounts, CostMeter } from "../ports/metrics.ts";
import type { ClientCapture } from "./aws-clients.ts";

/** One function's Powertools: its logger, metrics and tracer. */
export interface Powertools {
  logger: PowertoolsLogger;
  metrics: Metrics;
  tracer: Tracer;
}

/** A function's Powertools, named from its configuration (service, metrics namespace, log level). */
export function makePowertools(config: CloudConfig): Powertools {
  const serviceName = config[ENV.serviceName];
  return {
    logger: new PowertoolsLogger({ serviceName, logLevel: config[ENV.logLevel] }),
    metrics: new Metrics({ serviceName, namespace: config[ENV.metricsNamespace] }),
    // Off outside Lambda (tests, scripts): Powertools finds no execution environment there.
    tracer: new Tracer({ serviceName }),
  };
}

/** The Logger port on Powertools' logger: one JSON line per entry, with the invocation's keys (runId, orgId). */
export function loggerPort(logger: PowertoolsLogger): Logger {
  return {
    info: (msg, extra) => (extra ? logger.info(msg, extra) : logger.info(msg)),
    warn: (msg, extra) => (extra ? logger.warn(msg, extra) : logger.warn(msg)),
    error: (msg, extra) => (extra ? logger.error(msg, extra) : logger.error(msg)),
  };
}

/** Captures an SDK client with the tracer (each call becomes an X-Ray subsegment; nothing outside Lambda). */
export function clientCapture(tracer: Tracer): ClientCapture {
  return (client) => tracer.captureAWSv3Client(client);
}

/** The metric each cost counter is published as (a Count in the function's namespace, dimension `service`). */
export const COST_METRICS: Record<keyof CostCounts, string> = {
  transitions: "StateTransitions",
  handlerCalls: "LambdaCalls",
  dynamoWrites: "DynamoDBWrites",
  dynamoWriteUnits: "DynamoDBWriteUnits",
  s3Puts: "S3Puts",
  ecsRunTasks: "EcsRunTasks",
  ecsDescribeTasks: "EcsDescribeTasks",
  lambdaInvokes: "LambdaInvokes",
};

/**
 * The CostMeter forwarded to Metrics: what one invocation added to each counter becomes a metric of that
 * invocation's EMF blob, with its run's keys as metadata. Keys are metadata, not dimensions: a dimension per run
 * would make each run a metric of its own (billed monthly); as metadata they stay searchable in Logs Insights
 * (`stats sum(DynamoDBWriteUnits) by runId`). A Lambda runs one invocation at a time, so the delta is its own.
 */
export class CostMetrics {
  private start: CostCounts;

  constructor(
    private readonly meter: CostMeter,
    private readonly metrics: Metrics,
  ) {
    this.start = meter.snapshot();
  }

  /** Marks the start of an invocation. */
  begin(): void {
    this.start = this.meter.snapshot();
  }

  /** Adds what the meter counted since `begin` to the metrics (published by logMetrics when the invocation ends). */
  record(): void {
    const now = this.meter.snapshot();
    for (const key of Object.keys(COST_METRICS) as (keyof CostCounts)[])
      this.metrics.addMetric(COST_METRICS[key], MetricUnit.Count, now[key] - this.start[key]);
    this.start = now;
  }

  /** Ties this invocation's metrics to a run (metadata of the EMF blob). */
  tag(keys: RunKeys): void {
    for (const [k, v] of Object.entries(keys)) if (v) this.metrics.addMetadata(k, v);
  }
}
