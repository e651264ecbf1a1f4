import {
  ArnFormat,
  Aws,
  CfnOutput,
  CfnParameter,
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { EventBus, Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Effect, type IRole, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { ScheduleGroup } from "aws-cdk-lib/aws-scheduler";
import { Topic } from "aws-cdk-lib/aws-sns";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { ROUTE_SPECS } from "../functions/http/route-specs.ts";
import { TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from "../shared/adapters/dynamo-table.ts";
import { buildRunStateMachine } from "../shared/state-machine/run-state-machine.ts";
import { StepwiseFunction } from "./lambda-function.ts";
import { acknowledge, nagString } from "./nag.ts";

export interface StepwiseStackProps extends StackProps {
  /**
   * Name of the EventBridge bus that run and job-run events go to (source `stepwise`). A bus of its own rather than
   * the default one, so that PutEvents is granted on one bus and consumers' rules see only Stepwise events. Names are
   * unique per account and region: a second deployment in the same place needs another name.
   * @default "stepwise"
   */
  eventBusName?: string;
  /** @default RetentionDays.THREE_MONTHS */
  logRetention?: RetentionDays;
}

const STATE_MACHINE_ACTIONS = [
  "states:StartExecution",
  "states:StopExecution",
  "states:DescribeExecution",
  "states:SendTaskSuccess",
  "states:SendTaskFailure",
];

/** Step Functions statuses of an execution that ended without its handlers recording why. */
const DIED_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"];

/** The Stepwise service: HTTP API, run engine on Step Functions and Lambda, DynamoDB, S3, and the event plumbing. */
export class StepwiseStack extends Stack {
  readonly table: Table;
  readonly bucket: Bucket;
  readonly stateMachine: StateMachine;
  readonly httpApi: HttpApi;
  readonly functions: {
    api: StepwiseFunction;
    advanceRun: StepwiseFunction;
    awaitHuman: StepwiseFunction;
    recordFailure: StepwiseFunction;
    reconcileExecution: StepwiseFunction;
  };

  constructor(scope: Construct, id: string, props: StepwiseStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;

    const platformKeyHash = new CfnParameter(this, "PlatformKeyHash", {
      type: "String",
      description: "sha256:<hex> of the platform (bootstrap) API key; the key itself is never deployed.",
      allowedPattern: "^sha256:[0-9a-f]{64}$",
      constraintDescription: "must be sha256: followed by 64 lowercase hex digits",
    });

    // --- storage -------------------------------------------------------------------------------------------------
    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: TableEncryption.AWS_MANAGED,
      // Run records and the audit chain are the product: a stack deletion must not take them along.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of TABLE_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }

    this.bucket = new Bucket(this, "Bucket", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      // Retention of logs and files is a per-org setting applied by the service; only clean up abandoned uploads here.
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    acknowledge(this.bucket, {
      "AwsSolutions-S1":
        "Objects are read and written only by the service's functions, which record every run file with its sha256 " +
        "in the run's hash-chained audit trail; S3 server access logs would duplicate that at extra cost. CloudTrail " +
        "data events can be enabled per account where a second record is required.",
    });

    // Encrypts the secret values of input nodes (envelope-free: values are small), used by api and advance-run only.
    const secretsKey = new Key(this, "SecretsKey", {
      description: "Stepwise: secret values of input nodes",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- notifications (their consumers come with later issues) ---------------------------------------------------
    const eventsKey = new Key(this, "EventsKey", {
      description: "Stepwise: run and job-run event topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const eventsTopic = new Topic(this, "EventsTopic", {
      displayName: "Stepwise run events",
      masterKey: eventsKey,
      enforceSSL: true,
    });
    const eventBus = new EventBus(this, "EventBus", { eventBusName: props.eventBusName ?? "stepwise" });

    const deliveryDeadLetters = new Queue(this, "DeliveryDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // Outbound webhook deliveries; the consumer function comes later. Its visibility timeout must then be at least
    // six times that function's timeout.
    const deliveryQueue = new Queue(this, "DeliveryQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(3),
      deadLetterQueue: { queue: deliveryDeadLetters, maxReceiveCount: 5 },
    });

    const scheduleGroup = new ScheduleGroup(this, "ScheduleGroup", {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Assumed by EventBridge Scheduler to invoke the trigger function; that function and its invoke grant come later.
    const schedulerRole = new Role(this, "SchedulerRole", {
      assumedBy: new ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
      description: "Assumed by EventBridge Scheduler to start scheduled Stepwise runs",
    });

    // --- the run state machine's identity ------------------------------------------------------------------------
    // The machine's name (hence its ARN) is fixed up front: the functions it invokes need the ARN in their
    // environment and policies, and a reference to the machine from them would make a dependency cycle.
    const stateMachineName = `${this.stackName}-run`;
    const stateMachineArn = this.formatArn({
      service: "states",
      resource: "stateMachine",
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const executionArns = this.formatArn({
      service: "states",
      resource: "execution",
      resourceName: `${stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // --- functions -------------------------------------------------------------------------------------------------
    // Every function wires the same dependencies at start-up (functions/cloud-deps.ts), so each gets the table, the
    // bucket and the machine's ARN; what each may do with them is decided by its grants below, not by its environment.
    const baseEnv = {
      TABLE_NAME: this.table.tableName,
      BUCKET_NAME: this.bucket.bucketName,
      RUN_STATE_MACHINE_ARN: stateMachineArn,
    };
    const notifierEnv = {
      EVENTS_TOPIC_ARN: eventsTopic.topicArn,
      EVENT_BUS_NAME: eventBus.eventBusName,
      DELIVERY_QUEUE_URL: deliveryQueue.queueUrl,
    };

    const reconcileDeadLetters = new Queue(this, "ReconcileDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const api = new StepwiseFunction(this, "Api", {
      entry: "functions/api.ts",
      description: "Stepwise HTTP API (every route)",
      memorySize: 512,
      timeout: Duration.seconds(29),
      logRetention,
      environment: {
        ...baseEnv,
        ...notifierEnv,
        PLATFORM_KEY_HASH: platformKeyHash.valueAsString,
        SECRETS_KMS_KEY_ID: secretsKey.keyArn,
        SCHEDULER_ROLE_ARN: schedulerRole.roleArn,
        SCHEDULE_GROUP_NAME: scheduleGroup.scheduleGroupName,
      },
    });
    const advanceRun = new StepwiseFunction(this, "AdvanceRun", {
      entry: "functions/advance-run.ts",
      description: "Stepwise: advances a run's DAG as far as it can (runs commands and scripts)",
      // Commands and node scripts run in child processes next to the handler: they get the memory and disk.
      memorySize: 1024,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.gibibytes(2),
      logRetention,
      environment: { ...baseEnv, ...notifierEnv, SECRETS_KMS_KEY_ID: secretsKey.keyArn },
    });
    const awaitHuman = new StepwiseFunction(this, "AwaitHuman", {
      entry: "functions/await-human.ts",
      description: "Stepwise: parks a run on an approval or input with the task token",
      memorySize: 256,
      timeout: Duration.seconds(30),
      logRetention,
      environment: baseEnv,
    });
    const recordFailure = new StepwiseFunction(this, "RecordFailure", {
      entry: "functions/record-failure.ts",
      description: "Stepwise: records a handler failure on the run",
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention,
      environment: baseEnv,
    });
    const reconcileExecution = new StepwiseFunction(this, "ReconcileExecution", {
      entry: "functions/reconcile-execution.ts",
      description: "Stepwise: reconciles a run whose execution died outside the handlers",
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention,
      environment: baseEnv,
      deadLetterQueue: reconcileDeadLetters,
    });
    this.functions = { api, advanceRun, awaitHuman, recordFailure, reconcileExecution };

    // --- least privilege -----------------------------------------------------------------------------------------
    // Every function reads and writes run records. The table grant names its indexes as `<table>/index/*`.
    for (const f of Object.values(this.functions)) this.table.grantReadWriteData(f.role);

    // Publishing run events: the topic, the bus and the webhook delivery queue.
    const grantNotify = (role: IRole): void => {
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ["sns:Publish"], resources: [eventsTopic.topicArn] }));
      // Publishing to a topic encrypted with a customer key needs the key, for SNS to encrypt on the caller's behalf.
      role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [eventsKey.keyArn] }),
      );
      role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ["events:PutEvents"], resources: [eventBus.eventBusArn] }),
      );
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
          resources: [deliveryQueue.queueArn],
        }),
      );
    };

    // Only the API (uploads, downloads, presigned URLs, retention, sealing input secrets) and the engine (logs, run
    // files, unsealing secrets for the nodes after an input) touch objects, the secrets key and the notifiers.
    for (const f of [api, advanceRun]) {
      f.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
          resources: [this.bucket.arnForObjects("*")],
        }),
      );
      f.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ["s3:ListBucket"], resources: [this.bucket.bucketArn] }),
      );
      f.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ["kms:Encrypt", "kms:Decrypt"], resources: [secretsKey.keyArn] }),
      );
      grantNotify(f.role);
    }

    // Start, cancel and resume executions of this machine only.
    for (const f of [api, awaitHuman, reconcileExecution]) {
      f.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: STATE_MACHINE_ACTIONS,
          resources: [stateMachineArn, executionArns],
        }),
      );
    }

    // Schedules live in the stack's group only; the API passes the scheduler role to them and to nothing else.
    const scheduleArns = this.formatArn({
      service: "scheduler",
      resource: "schedule",
      resourceName: `${scheduleGroup.scheduleGroupName}/*`,
    });
    api.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          "scheduler:CreateSchedule",
          "scheduler:UpdateSchedule",
          "scheduler:DeleteSchedule",
          "scheduler:GetSchedule",
        ],
        resources: [scheduleArns],
      }),
    );
    api.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [schedulerRole.roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
      }),
    );

    // --- state machine ---------------------------------------------------------------------------------------------
    const stateMachineLogs = new LogGroup(this, "RunStateMachineLogs", {
      // The vendedlogs prefix keeps CloudWatch Logs' resource policy from growing with every log group.
      logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const definition = buildRunStateMachine({
      advance: advanceRun.fn.functionArn,
      awaitHuman: awaitHuman.fn.functionArn,
      recordFailure: recordFailure.fn.functionArn,
    });
    this.stateMachine = new StateMachine(this, "RunStateMachine", {
      stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(this.toJsonString(definition)),
      // Execution data carries only ids, but the log need not hold even those: the run record is the reference.
      logs: { destination: stateMachineLogs, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    // Unqualified ARNs only: the machine invokes $LATEST of exactly these three functions.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ["lambda:InvokeFunction"],
        resources: [advanceRun, awaitHuman, recordFailure].map((f) => f.fn.functionArn),
      }),
    );

    // An execution that dies outside the handlers (timeout, abort, a failure RecordFailure never saw) would leave the
    // run "running" forever: Step Functions reports it on the default bus and this rule hands it to the reconciler.
    // FAILED also covers runs that ended through RunFailed after their record was written; the reconciler finds them
    // terminal and leaves them alone, one cheap call that is safer than guessing from the error name.
    new Rule(this, "ReconcileExecutionRule", {
      description: "Stepwise: executions of the run state machine that ended failed, timed out or aborted",
      eventPattern: {
        source: ["aws.states"],
        detailType: ["Step Functions Execution Status Change"],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: DIED_STATUSES },
      },
      targets: [
        new LambdaFunction(reconcileExecution.fn, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: reconcileDeadLetters,
        }),
      ],
    });

    // --- HTTP API --------------------------------------------------------------------------------------------------
    const accessLogs = new LogGroup(this, "HttpApiAccessLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.httpApi = new HttpApi(this, "HttpApi", {
      description: "Stepwise HTTP API; API keys are checked by the function",
      createDefaultStage: false,
    });
    const stage = new HttpStage(this, "HttpApiStage", {
      httpApi: this.httpApi,
      stageName: "$default",
      autoDeploy: true,
      // A ceiling on what a runaway client can cost the account; limits per API key are the function's business.
      throttle: { rateLimit: 50, burstLimit: 100 },
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
    const integration = new HttpLambdaIntegration("ApiIntegration", api.fn, { scopePermissionToRoute: false });
    for (const spec of ROUTE_SPECS) {
      this.httpApi.addRoutes({ path: spec.path, methods: [HttpMethod[spec.method]], integration });
    }
    acknowledge(this.httpApi, {
      "AwsSolutions-APIG4":
        "Routes have no API Gateway authorizer on purpose: the api function authenticates every request with the " +
        "org's API keys (hashed in DynamoDB) and applies the route's role, and webhooks are checked by HMAC signature; " +
        "GET /api/health is public by contract.",
    });

    // --- findings accepted on every function ---------------------------------------------------------------------
    for (const f of Object.values(this.functions)) {
      acknowledge(f, {
        "AwsSolutions-L1":
          "nodejs22.x is the runtime the project targets and tests (the embedded mode runs the same code on Node 20); " +
          "nodejs24.x follows once the dependencies are verified on it.",
        "AwsSolutions-IAM5[Resource::*]":
          "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions; active tracing needs *.",
        [`AwsSolutions-IAM5[Resource::${nagString(this, `${this.table.tableArn}/index/*`)}]`]:
          "Queries go through the table's three GSIs; the grant covers this table's indexes and nothing else.",
      });
    }
    for (const f of [api, advanceRun]) {
      acknowledge(f, {
        [`AwsSolutions-IAM5[Resource::${nagString(this, this.bucket.arnForObjects("*"))}]`]:
          "Object keys are per org and run and not known in advance; access is limited to this bucket's objects.",
      });
    }
    for (const f of [api, awaitHuman, reconcileExecution]) {
      acknowledge(f, {
        [`AwsSolutions-IAM5[Resource::${nagString(this, executionArns)}]`]:
          "Executions are named after run ids, created at run time; the grant covers executions of this machine only.",
      });
    }
    acknowledge(api, {
      [`AwsSolutions-IAM5[Resource::${nagString(this, scheduleArns)}]`]:
        "Schedules are created by users at run time; the grant covers schedules in the stack's group only.",
    });
    acknowledge(this.stateMachine, {
      "AwsSolutions-IAM5[Resource::*]":
        "CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray tracing have no resource-level " +
        "permissions; Step Functions requires * for both.",
    });

    new CfnOutput(this, "ApiUrl", { value: stage.url, description: "Base URL of the HTTP API" });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "BucketName", { value: this.bucket.bucketName });
    new CfnOutput(this, "RunStateMachineArn", { value: this.stateMachine.stateMachineArn });
  }
}
