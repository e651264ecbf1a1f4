import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ROUTE_SPECS } from "../../functions/http/route-specs.ts";
import { ENV } from "../../shared/config.ts";
import type { StepwiseFunction } from "../lambda-function.ts";
import { acknowledge } from "../nag.ts";
import {
  acknowledgeExecutions,
  type EngineContext,
  grantStatusChanges,
  serviceFunction,
  statusEnvironment,
} from "./engine-context.ts";
import type { RunEngine } from "./run-engine.ts";
import type { Triggers } from "./triggers.ts";

export interface StepwiseHttpApiProps {
  /** sha256:<hex> of the platform (bootstrap) key (a stack parameter). */
  platformKeyHash: string;
  runEngine: RunEngine;
  triggers: Triggers;
}

/** Stage throttling: a ceiling on what a runaway client can cost the account (answers 429 from API Gateway itself). */
export const STAGE_THROTTLE = { rateLimit: 50, burstLimit: 100 };

/**
 * The HTTP API: one function serves every route (API keys and roles are checked by it), one API Gateway route per
 * contract route plus `$default`, so that an unknown path or method reaches the function's 404/405 error JSON instead
 * of API Gateway's own `{"message":"Not Found"}`.
 */
export class StepwiseHttpApi extends Construct {
  readonly api: StepwiseFunction;
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, ctx: EngineContext, props: StepwiseHttpApiProps) {
    super(scope, id);
    const { storage } = ctx;
    this.api = serviceFunction(this, "Api", ctx, {
      entry: "functions/api.ts",
      description: "Stepwise HTTP API (every route)",
      memorySize: 512,
      timeout: Duration.seconds(29),
      environment: {
        ...statusEnvironment(ctx),
        [ENV.platformKeyHash]: props.platformKeyHash,
        [ENV.secretsKmsKeyId]: storage.secretsKey.keyArn,
        ...props.triggers.schedulingEnvironment,
      },
    });
    grantStatusChanges(ctx, this.api, { endsRuns: true });
    storage.grantObjects(this.api);
    storage.grantSeal(this.api.role);
    props.runEngine.grantSteer(this.api.role);
    acknowledgeExecutions(this.api, ctx.machines.run, "run");
    props.triggers.grantScheduling(this.api);

    const accessLogs = new LogGroup(this, "HttpApiAccessLogs", {
      retention: ctx.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.httpApi = new HttpApi(this, "HttpApi", {
      description: "Stepwise HTTP API; API keys are checked by the function",
      createDefaultStage: false,
    });
    this.stage = new HttpStage(this, "HttpApiStage", {
      httpApi: this.httpApi,
      stageName: "$default",
      autoDeploy: true,
      throttle: STAGE_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            ip: "$context.identity.sourceIp",
            requestTime: "$context.requestTime",
            routeKey: "$context.routeKey",
            status: "$context.status",
            responseLength: "$context.responseLength",
            latencyMs: "$context.responseLatency",
            integrationError: "$context.integrationErrorMessage",
          }),
        ),
      },
    });
    // One resource-policy statement for the whole API instead of one per route (the policy is capped at 20 KB).
    const integration = new HttpLambdaIntegration("ApiIntegration", this.api.fn, { scopePermissionToRoute: false });
    for (const spec of ROUTE_SPECS) {
      this.httpApi.addRoutes({ path: spec.path, methods: [HttpMethod[spec.method]], integration });
    }
    // Without it API Gateway answers unknown paths and methods itself ({"message":"Not Found"}), outside the
    // contract's error shape; with it they reach the function's 404/405 error JSON.
    new HttpRoute(this.httpApi, "DefaultRoute", { httpApi: this.httpApi, routeKey: HttpRouteKey.DEFAULT, integration });
    acknowledge(this.httpApi, {
      "AwsSolutions-APIG4":
        "Routes have no API Gateway authorizer on purpose: the api function authenticates every request with the " +
        "org's API keys (hashed in DynamoDB) and applies the route's role, and webhooks are checked by HMAC signature; " +
        "GET /api/health is public by contract.",
    });
  }

  /** The API's own endpoint host (no custom domain). */
  get endpointHost(): string {
    const stack = this.httpApi.stack;
    return `${this.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
  }
}
