import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { CostMetrics, type Powertools } from "../shared/adapters/powertools.ts";
import type { CostMeter } from "../shared/ports/metrics.ts";
import { type HandlerTelemetry, keysOf, type RunKeys } from "./telemetry.ts";

/**
 * The cloud's handler telemetry, on Powertools: every invocation logs with the Lambda context and its run's keys
 * (injectLambdaContext, keys reset after each invocation), is traced (captureLambdaHandler; responses are not
 * recorded, they may hold run data) and ends with one EMF blob of the cost counters it moved (logMetrics), plus
 * one log line saying how it ended.
 */
export function powertoolsTelemetry(pt: Powertools, meter: CostMeter): HandlerTelemetry {
  const cost = new CostMetrics(meter, pt.metrics);
  const tag = (keys: RunKeys) => {
    const known = Object.fromEntries(Object.entries(keys).filter(([, v]) => typeof v === "string" && v));
    if (!Object.keys(known).length) return;
    pt.logger.appendKeys(known);
    cost.tag(known);
  };
  return {
    tag,
    transitions: (count) => {
      meter.transitions += count;
    },
    chain: <E, R, C extends Context = Context>(keys: (event: E) => RunKeys = keysOf) => {
      let started = 0;
      const ended = (response: unknown) => {
        cost.record();
        const status = (response as { statusCode?: unknown } | undefined)?.statusCode;
        pt.logger.info("invocation ended", {
          durationMs: Date.now() - started,
          ...(typeof status === "number" ? { statusCode: status } : {}),
        });
      };
      const invocation: middy.MiddlewareObj<E, R, Error, C> = {
        before: (request) => {
          started = Date.now();
          cost.begin();
          tag(keys(request.event));
        },
        after: (request) => ended(request.response),
        onError: (request) => {
          // An error the chain answered (the API's error JSON) ended the invocation; any other fails it.
          if (request.response !== undefined) return ended(request.response);
          cost.record();
          pt.logger.error("invocation failed", request.error ?? "unknown error");
        },
      };
      return middy<E, R, Error, C>()
        .use(injectLambdaContext(pt.logger, { resetKeys: true }))
        .use(captureLambdaHandler(pt.tracer, { captureResponse: false }))
        .use(logMetrics(pt.metrics, { captureColdStartMetric: true }))
        .use(invocation);
    },
  };
}
