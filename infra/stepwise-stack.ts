import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  ArnFormat,
  Aws,
  CfnOutput,
  CfnParameter,
  DefaultStackSynthesizer,
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import {
  AllowedMethods,
  CachePolicy,
  Function as CloudFrontFunction,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { HttpOrigin, S3BucketOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { EventBus, Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Effect, type IRole, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { BucketDeployment, Source } from "aws-cdk-lib/aws-s3-deployment";
import { ScheduleGroup } from "aws-cdk-lib/aws-scheduler";
import { Topic } from "aws-cdk-lib/aws-sns";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { ROUTE_SPECS } from "../functions/http/route-specs.ts";
import { TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from "../shared/adapters/dynamo-table.ts";
import { buildJobRunStateMachine } from "../shared/jobs/job-run-state-machine.ts";
import { buildRunStateMachine } from "../shared/state-machine/run-state-machine.ts";
import { PROJECT_ROOT, StepwiseFunction } from "./lambda-function.ts";
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
  /**
   * Let subscriptions target private and loopback ranges (receivers inside the VPC or peered networks). Link-local
   * and metadata addresses stay refused. Sets SUBSCRIPTIONS_ALLOW_PRIVATE_URLS on the API and delivery functions.
   * @default false
   */
  allowPrivateSubscriptionUrls?: boolean;
}

/** The built dashboard (`npm run build:dashboard`), relative to the repository root. */
export const DASHBOARD_DIST = "dashboard/dist";

const STATE_MACHINE_ACTIONS = [
  "states:StartExecution",
  "states:StopExecution",
  "states:DescribeExecution",
  "states:SendTaskSuccess",
  "states:SendTaskFailure",
];

/** Step Functions statuses of an execution that ended without its handlers recording why. */
const DIED_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"];

/** The delivery worker's timeout; the delivery queue hides a received message six times as long (AWS's advice). */
const DELIVERY_TIMEOUT = Duration.seconds(60);

/**
 * Sends every path that is not a file of the dashboard (no extension in its last segment) to index.html, so that a
 * deep link loads the single-page app. A function on the default behaviour rather than the distribution's error
 * responses: those apply to every behaviour and would turn the API's own 403 and 404 answers into index.html.
 */
const SPA_REWRITE = `function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1) request.uri = "/index.html";
  return request;
}`;

/**
 * The Stepwise service: HTTP API, run and job-run engines on Step Functions and Lambda, DynamoDB, S3, the event and
 * schedule plumbing, and the dashboard on S3 behind CloudFront (same origin as the API).
 */
export class StepwiseStack extends Stack {
  readonly table: Table;
  readonly bucket: Bucket;
  readonly stateMachine: StateMachine;
  readonly jobStateMachine: StateMachine;
  readonly httpApi: HttpApi;
  readonly dashboardBucket: Bucket;
  readonly distribution: Distribution;
  readonly functions: {
    retentionSweep: StepwiseFunction;
    api: StepwiseFunction;
    advanceRun: StepwiseFunction;
    awaitHuman: StepwiseFunction;
    recordFailure: StepwiseFunction;
    reconcileExecution: StepwiseFunction;
    scheduleTrigger: StepwiseFunction;
    deliverEvents: StepwiseFunction;
    runNext: StepwiseFunction;
    recordJobFailure: StepwiseFunction;
    reconcileJob: StepwiseFunction;
  };

  constructor(scope: Construct, id: string, props: StepwiseStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    const dashboardDist = join(PROJECT_ROOT, DASHBOARD_DIST);
    if (!existsSync(join(dashboardDist, "index.html"))) {
      throw new Error(`${DASHBOARD_DIST} is missing: run \`npm run build:dashboard\` before synthesizing the stack`);
    }

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
      // Run files over 1 MiB are answered with a redirect to a presigned URL, which the dashboard follows with fetch
      // from its own origin. The URL is the credential (5 minutes, one object), so any origin may read through it;
      // nothing else is allowed cross-origin.
      cors: [{ allowedMethods: [HttpMethods.GET, HttpMethods.HEAD], allowedOrigins: ["*"], maxAge: 3000 }],
    });
    acknowledge(this.bucket, {
      "AwsSolutions-S1":
        "Objects are read and written only by the service's functions, which record every run file with its sha256 " +
        "in the run's hash-chained audit trail; S3 server access logs would duplicate that at extra cost. CloudTrail " +
        "data events can be enabled per account where a second record is required.",
    });

    // Encrypts secret values: input nodes' (api seals, advance-run unseals), inbound webhooks' (api) and
    // subscriptions' signing secrets (api seals, the delivery worker unseals).
    const secretsKey = new Key(this, "SecretsKey", {
      description: "Stepwise: secret values of input nodes",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- notifications ---------------------------------------------------------------------------------------------
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
    // Outbound webhook deliveries, consumed by the deliver-events function. A message stays hidden six times that
    // function's timeout, so that a batch retried by Lambda is never handed to a second worker meanwhile.
    const deliveryQueue = new Queue(this, "DeliveryQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * DELIVERY_TIMEOUT.toSeconds()),
      deadLetterQueue: { queue: deliveryDeadLetters, maxReceiveCount: 5 },
    });

    const scheduleGroup = new ScheduleGroup(this, "ScheduleGroup", {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Assumed by EventBridge Scheduler to invoke the schedule-trigger function (granted below), and nothing else.
    const schedulerRole = new Role(this, "SchedulerRole", {
      assumedBy: new ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
      description: "Assumed by EventBridge Scheduler to start scheduled Stepwise runs",
    });

    // --- the state machines' identities --------------------------------------------------------------------------
    // Each machine's name (hence its ARN) is fixed up front: the functions it invokes need the ARN in their
    // environment and policies, and a reference to the machine from them would make a dependency cycle.
    const identity = (suffix: string) => {
      const name = `${this.stackName}-${suffix}`;
      return {
        name,
        arn: this.formatArn({
          service: "states",
          resource: "stateMachine",
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
        executions: this.formatArn({
          service: "states",
          resource: "execution",
          resourceName: `${name}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      };
    };
    const runMachine = identity("run");
    const jobMachine = identity("job");

    // --- functions -------------------------------------------------------------------------------------------------
    // Every function wires the same dependencies at start-up (shared/adapters/cloud-adapters.ts), so each gets the table, the
    // bucket and the run machine's ARN; what each may do with them is decided by its grants below.
    const baseEnv = {
      TABLE_NAME: this.table.tableName,
      BUCKET_NAME: this.bucket.bucketName,
      RUN_STATE_MACHINE_ARN: runMachine.arn,
    };
    // For the functions that change run or job-run statuses: every change is published (functions/triggers-cloud.ts)
    // and may start a schedule's buffered firing, whose target is a workflow (run machine) or a job (job machine).
    const statusEnv = {
      ...baseEnv,
      JOB_STATE_MACHINE_ARN: jobMachine.arn,
      EVENTS_TOPIC_ARN: eventsTopic.topicArn,
      EVENT_BUS_NAME: eventBus.eventBusName,
      DELIVERY_QUEUE_URL: deliveryQueue.queueUrl,
    };
    const small = { memorySize: 256, timeout: Duration.seconds(60), logRetention };
    // Only when allowed: the default deployment's functions carry no such variable.
    const urlPolicyEnv: Record<string, string> = props.allowPrivateSubscriptionUrls
      ? { SUBSCRIPTIONS_ALLOW_PRIVATE_URLS: "true" }
      : {};

    const reconcileDeadLetters = new Queue(this, "ReconcileDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const reconcileJobDeadLetters = new Queue(this, "ReconcileJobDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const scheduleTrigger = new StepwiseFunction(this, "ScheduleTrigger", {
      entry: "functions/schedule-trigger.ts",
      description: "Stepwise: fires a schedule at one of its instants (invoked by EventBridge Scheduler)",
      ...small,
      environment: statusEnv,
    });
    const api = new StepwiseFunction(this, "Api", {
      entry: "functions/api.ts",
      description: "Stepwise HTTP API (every route)",
      memorySize: 512,
      timeout: Duration.seconds(29),
      logRetention,
      environment: {
        ...statusEnv,
        PLATFORM_KEY_HASH: platformKeyHash.valueAsString,
        SECRETS_KMS_KEY_ID: secretsKey.keyArn,
        SCHEDULER_ROLE_ARN: schedulerRole.roleArn,
        SCHEDULE_GROUP_NAME: scheduleGroup.scheduleGroupName,
        SCHEDULE_TARGET_ARN: scheduleTrigger.fn.functionArn,
        ...urlPolicyEnv,
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
      environment: { ...statusEnv, SECRETS_KMS_KEY_ID: secretsKey.keyArn },
    });
    // It stores the human wait's task token (and may resume the execution at once); it never changes a status.
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
      ...small,
      environment: statusEnv,
    });
    const reconcileExecution = new StepwiseFunction(this, "ReconcileExecution", {
      entry: "functions/reconcile-execution.ts",
      description: "Stepwise: reconciles a run whose execution died outside the handlers",
      ...small,
      environment: statusEnv,
      deadLetterQueue: reconcileDeadLetters,
    });
    // Sends webhook deliveries; it reads subscriptions and their sealed secrets and re-queues with backoff, but never
    // changes a run, so it publishes nothing.
    const deliverEvents = new StepwiseFunction(this, "DeliverEvents", {
      entry: "functions/deliver-events.ts",
      description: "Stepwise: delivers queued events to subscribers' webhooks",
      memorySize: 256,
      timeout: DELIVERY_TIMEOUT,
      logRetention,
      environment: {
        ...baseEnv,
        SECRETS_KMS_KEY_ID: secretsKey.keyArn,
        DELIVERY_QUEUE_URL: deliveryQueue.queueUrl,
        ...urlPolicyEnv,
      },
    });
    const runNext = new StepwiseFunction(this, "RunNext", {
      entry: "functions/run-next.ts",
      description: "Stepwise: starts (or waits for) a job run's next workflow run",
      ...small,
      environment: statusEnv,
    });
    const recordJobFailure = new StepwiseFunction(this, "RecordJobFailure", {
      entry: "functions/record-job-failure.ts",
      description: "Stepwise: records a handler failure on the job run",
      ...small,
      environment: statusEnv,
    });
    const reconcileJob = new StepwiseFunction(this, "ReconcileJob", {
      entry: "functions/reconcile-job.ts",
      description: "Stepwise: reconciles a job run whose execution died outside the handlers",
      ...small,
      environment: statusEnv,
      deadLetterQueue: reconcileJobDeadLetters,
    });
    const retentionSweep = new StepwiseFunction(this, "RetentionSweep", {
      entry: "functions/retention-sweep.ts",
      description: "Stepwise: deletes logs and file contents past each org's retention (daily)",
      memorySize: 256,
      timeout: Duration.minutes(15),
      logRetention,
      environment: baseEnv,
    });
    this.functions = {
      retentionSweep,
      api,
      advanceRun,
      awaitHuman,
      recordFailure,
      reconcileExecution,
      scheduleTrigger,
      deliverEvents,
      runNext,
      recordJobFailure,
      reconcileJob,
    };

    // --- least privilege -----------------------------------------------------------------------------------------
    // Every function reads and writes records. The table grant names its indexes as `<table>/index/*`.
    for (const f of Object.values(this.functions)) this.table.grantReadWriteData(f.role);

    const allow = (role: IRole, actions: string[], resources: string[]): void => {
      role.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
    };

    // Publishing run and job-run events: the topic, the bus and the webhook delivery queue.
    const grantNotify = (role: IRole): void => {
      allow(role, ["sns:Publish"], [eventsTopic.topicArn]);
      // Publishing to a topic encrypted with a customer key needs the key, for SNS to encrypt on the caller's behalf.
      allow(role, ["kms:GenerateDataKey", "kms:Decrypt"], [eventsKey.keyArn]);
      allow(role, ["events:PutEvents"], [eventBus.eventBusArn]);
      allow(role, ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], [deliveryQueue.queueArn]);
    };

    // The functions that change run or job-run statuses publish every change, and (through the triggers area's
    // listeners) may start a buffer_one schedule's waiting firing when the run or job run it waited for ends: a
    // new execution of the run machine or of the job machine, depending on the schedule's target.
    const changesStatuses = [
      api,
      advanceRun,
      recordFailure,
      reconcileExecution,
      scheduleTrigger,
      runNext,
      recordJobFailure,
      reconcileJob,
    ];
    for (const f of changesStatuses) {
      grantNotify(f.role);
      allow(f.role, ["states:StartExecution"], [runMachine.arn, jobMachine.arn]);
    }

    // Ending a workflow run that belongs to a job run completes the job run's wait (the jobs area's run listener):
    // SendTaskSuccess with the token of the job machine's RunNext. Only these functions can end such a run (the
    // schedule trigger only starts runs of schedules, await-human and the job functions other than run-next never
    // end one, the delivery worker changes no run). Task tokens are checked against the machine they belong to.
    for (const f of [api, advanceRun, recordFailure, reconcileExecution, runNext]) {
      allow(f.role, ["states:SendTaskSuccess"], [jobMachine.arn]);
    }

    // The retention sweep lists a run's objects and deletes them; it reads and writes nothing else.
    allow(retentionSweep.role, ["s3:DeleteObject"], [this.bucket.arnForObjects("orgs/*")]);
    allow(retentionSweep.role, ["s3:ListBucket"], [this.bucket.bucketArn]);
    acknowledge(retentionSweep, {
      [`AwsSolutions-IAM5[Resource::${nagString(this, this.bucket.arnForObjects("orgs/*"))}]`]:
        "The sweep deletes the logs and files of whichever runs passed their org's retention; it may only delete, and only under orgs/.",
    });
    new Rule(this, "RetentionSweepDaily", {
      description: "Stepwise: the daily retention sweep",
      schedule: Schedule.rate(Duration.days(1)),
      targets: [new LambdaFunction(retentionSweep.fn, { retryAttempts: 2 })],
    });

    // Only the API (uploads, downloads, presigned URLs, retention, sealing secrets) and the engine (logs, run files,
    // unsealing secrets for the nodes after an input) touch objects.
    for (const f of [api, advanceRun]) {
      allow(
        f.role,
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        [this.bucket.arnForObjects("*")],
      );
      allow(f.role, ["s3:ListBucket"], [this.bucket.bucketArn]);
      allow(f.role, ["kms:Encrypt", "kms:Decrypt"], [secretsKey.keyArn]);
    }

    // Start, cancel and resume executions of the run machine.
    for (const f of [api, awaitHuman, reconcileExecution]) {
      allow(f.role, STATE_MACHINE_ACTIONS, [runMachine.arn, runMachine.executions]);
    }
    // RunNext starts a job run's workflow runs (granted above) and cancels one when the job run was cancelled while it
    // started it.
    allow(runNext.role, ["states:StopExecution"], [runMachine.executions]);

    // The delivery worker unseals subscriptions' signing secrets and re-queues deliveries with backoff; receiving and
    // deleting messages is granted by the event source below.
    allow(deliverEvents.role, ["kms:Decrypt"], [secretsKey.keyArn]);
    allow(deliverEvents.role, ["sqs:SendMessage"], [deliveryQueue.queueArn]);
    deliverEvents.fn.addEventSource(
      new SqsEventSource(deliveryQueue, {
        batchSize: 10,
        // A receiver that fails is the worker's business (it re-queues with backoff); only the messages whose
        // processing threw go back to the queue, not the whole batch.
        reportBatchItemFailures: true,
      }),
    );
    // Every two minutes the same function queues the deliveries left without a queue message (a failed SendMessage):
    // one query of a sparse index when there are none. No retry: the next sweep comes soon enough.
    new Rule(this, "DeliverySweep", {
      description: "Stepwise: queues webhook deliveries whose queue message could not be sent",
      schedule: Schedule.rate(Duration.minutes(2)),
      targets: [
        new LambdaFunction(deliverEvents.fn, {
          event: RuleTargetInput.fromObject({ task: "sweep-deliveries" }),
          retryAttempts: 0,
        }),
      ],
    });

    // Schedules live in the stack's group only; the API passes the scheduler role to them and to nothing else, and
    // that role may invoke the schedule-trigger function and nothing else.
    const scheduleArns = this.formatArn({
      service: "scheduler",
      resource: "schedule",
      resourceName: `${scheduleGroup.scheduleGroupName}/*`,
    });
    allow(
      api.role,
      ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
      [scheduleArns],
    );
    api.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [schedulerRole.roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
      }),
    );
    allow(schedulerRole, ["lambda:InvokeFunction"], [scheduleTrigger.fn.functionArn]);

    // --- state machines --------------------------------------------------------------------------------------------
    const machine = (
      id: string,
      named: { name: string },
      definition: Record<string, unknown>,
      invokes: StepwiseFunction[],
    ): StateMachine => {
      const logs = new LogGroup(this, `${id}Logs`, {
        // The vendedlogs prefix keeps CloudWatch Logs' resource policy from growing with every log group.
        logGroupName: `/aws/vendedlogs/states/${named.name}`,
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const sm = new StateMachine(this, id, {
        stateMachineName: named.name,
        stateMachineType: StateMachineType.STANDARD,
        definitionBody: DefinitionBody.fromString(this.toJsonString(definition)),
        // Execution data carries only ids, but the log need not hold even those: the records are the reference.
        logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
        tracingEnabled: true,
      });
      // Unqualified ARNs only: the machine invokes $LATEST of exactly its own functions.
      sm.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ["lambda:InvokeFunction"],
          resources: invokes.map((f) => f.fn.functionArn),
        }),
      );
      acknowledge(sm, {
        "AwsSolutions-IAM5[Resource::*]":
          "CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray tracing have no resource-level " +
          "permissions; Step Functions requires * for both.",
      });
      return sm;
    };
    this.stateMachine = machine(
      "RunStateMachine",
      runMachine,
      buildRunStateMachine({
        advance: advanceRun.fn.functionArn,
        awaitHuman: awaitHuman.fn.functionArn,
        recordFailure: recordFailure.fn.functionArn,
      }),
      [advanceRun, awaitHuman, recordFailure],
    );
    // One execution per job run, named after the jobRunId, with input {orgId, jobRunId} (SfnJobRunOrchestrator).
    this.jobStateMachine = machine(
      "JobRunStateMachine",
      jobMachine,
      buildJobRunStateMachine({ runNext: runNext.fn.functionArn, recordFailure: recordJobFailure.fn.functionArn }),
      [runNext, recordJobFailure],
    );

    // An execution that dies outside the handlers (timeout, abort, a failure RecordFailure never saw) would leave the
    // run or job run going forever: Step Functions reports it on the default bus and a rule hands it to the
    // reconciler. FAILED also covers executions that ended through their Fail state after the record was written;
    // the reconciler finds them terminal and leaves them alone, one cheap call that is safer than guessing from the
    // error name.
    const reconcileRule = (
      id: string,
      what: string,
      sm: StateMachine,
      target: StepwiseFunction,
      deadLetters: Queue,
    ) => {
      new Rule(this, id, {
        description: `Stepwise: executions of the ${what} state machine that ended failed, timed out or aborted`,
        eventPattern: {
          source: ["aws.states"],
          detailType: ["Step Functions Execution Status Change"],
          detail: { stateMachineArn: [sm.stateMachineArn], status: DIED_STATUSES },
        },
        targets: [
          new LambdaFunction(target.fn, {
            retryAttempts: 8,
            maxEventAge: Duration.hours(24),
            deadLetterQueue: deadLetters,
          }),
        ],
      });
    };
    reconcileRule("ReconcileExecutionRule", "run", this.stateMachine, reconcileExecution, reconcileDeadLetters);
    reconcileRule("ReconcileJobRule", "job-run", this.jobStateMachine, reconcileJob, reconcileJobDeadLetters);

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

    // --- dashboard: S3 behind CloudFront, with the API on the same origin ----------------------------------------
    this.dashboardBucket = new Bucket(this, "DashboardBucket", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // Build output only, re-deployed with every stack update; the deployment below empties it on deletion.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(this.dashboardBucket, {
      "AwsSolutions-S1":
        "The bucket holds only the dashboard's build output, written by the stack's deployment and read by " +
        "CloudFront through origin access control; it holds no data, and its readers are the distribution's viewers.",
    });

    // The dashboard runs scripts and styles from its own origin only and talks to the API on that origin; the data
    // bucket is named for the presigned redirects of large run files.
    const csp = [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      `connect-src 'self' https://${this.bucket.bucketName}.s3.${this.region}.${this.urlSuffix}`,
      "manifest-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; ");
    const securityHeaders = new ResponseHeadersPolicy(this, "SecurityHeaders", {
      comment: "Stepwise: security headers of the dashboard and the API",
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
      },
    });
    const spaRewrite = new CloudFrontFunction(this, "DashboardRewrite", {
      comment: "Stepwise: deep links of the dashboard load index.html",
      code: FunctionCode.fromInline(SPA_REWRITE),
      runtime: FunctionRuntime.JS_2_0,
    });
    // The HTTP API's own endpoint: no custom domain, so the Host header must be the API's (not forwarded).
    const apiBehavior = {
      origin: new HttpOrigin(`${this.httpApi.apiId}.execute-api.${this.region}.${this.urlSuffix}`, {
        protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [OriginSslPolicy.TLS_V1_2],
      }),
      // Clients of the API must not be redirected (a redirected POST loses its body): plain HTTP is refused.
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      // Nothing is cached: answers depend on the caller's key; with caching disabled, the all-viewer policy also
      // forwards the Authorization header.
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: securityHeaders,
      compress: true,
    };
    this.distribution = new Distribution(this, "Dashboard", {
      comment: "Stepwise: dashboard and API",
      defaultRootObject: "index.html",
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.dashboardBucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        functionAssociations: [{ function: spaRewrite, eventType: FunctionEventType.VIEWER_REQUEST }],
        compress: true,
      },
      additionalBehaviors: { "/api/*": apiBehavior, "/hooks/*": apiBehavior },
    });
    acknowledge(this.distribution, {
      "AwsSolutions-CFR1":
        "Stepwise serves its users wherever they are; an organisation that must restrict countries can add a geo " +
        "restriction to the distribution for its deployment.",
      "AwsSolutions-CFR2":
        "No web ACL is attached by default: WAF is billed per ACL and rule, and the API already authenticates every " +
        "request (API keys, webhook HMAC signatures) behind the stage's throttle; attach an ACL per deployment.",
      "AwsSolutions-CFR3":
        "Every request that reaches the service (/api/*, /hooks/*) is logged by the HTTP API stage's access log; the " +
        "remaining requests fetch the dashboard's static files, which would need a further, ACL-enabled log bucket.",
      "AwsSolutions-CFR4":
        "The distribution uses the default *.cloudfront.net certificate, whose TLS policy CloudFront fixes (TLSv1 " +
        "minimum); a custom domain with its ACM certificate is needed to require TLS 1.2 for viewers.",
    });

    new BucketDeployment(this, "DashboardDeployment", {
      sources: [Source.asset(dashboardDist)],
      destinationBucket: this.dashboardBucket,
      // Files of earlier builds go; the edge caches are flushed so that the new index.html is served at once.
      prune: true,
      retainOnDelete: false,
      distribution: this.distribution,
      distributionPaths: ["/*"],
      logGroup: new LogGroup(this, "DashboardDeploymentLogs", {
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    // The deployment's handler is CDK's singleton function at the stack's root, with the grants CDK gives it: read the
    // staged asset, write this bucket, invalidate the distribution.
    const deploymentHandler = this.node.children.find((c) => c.node.id.startsWith("Custom::CDKBucketDeployment"));
    if (!deploymentHandler) throw new Error("the dashboard deployment's handler function was not found");
    const qualifier =
      this.node.tryGetContext("@aws-cdk/core:bootstrapQualifier") ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation placeholder, not a JS template.
    const assetBucket = DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace("${Qualifier}", qualifier);
    const cdkGrants = "CDK gives the BucketDeployment handler grantRead/grantReadWrite, whose action globs cover ";
    acknowledge(deploymentHandler, {
      "AwsSolutions-L1":
        "The dashboard deployment's handler is CDK's BucketDeployment function; aws-cdk-lib chooses its runtime and " +
        "moves it with new releases. It runs only while the stack deploys.",
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]":
        "CDK's BucketDeployment handler role carries the basic execution policy, which writes its own logs only.",
      "AwsSolutions-IAM5[Action::s3:GetObject*]": `${cdkGrants}reading the staged dashboard build.`,
      "AwsSolutions-IAM5[Action::s3:GetBucket*]": `${cdkGrants}reading the staged build and the dashboard bucket.`,
      "AwsSolutions-IAM5[Action::s3:List*]": `${cdkGrants}listing the staged build and the dashboard bucket (prune).`,
      "AwsSolutions-IAM5[Action::s3:DeleteObject*]": `${cdkGrants}removing files of earlier builds (prune).`,
      "AwsSolutions-IAM5[Action::s3:Abort*]": `${cdkGrants}aborting its own multipart uploads to the dashboard bucket.`,
      [`AwsSolutions-IAM5[Resource::${nagString(this, `${this.dashboardBucket.bucketArn}/*`)}]`]:
        "The handler replaces the whole dashboard build, whose file names carry content hashes; this bucket only.",
      [`AwsSolutions-IAM5[Resource::${nagString(this, `arn:${this.partition}:s3:::${assetBucket}/*`)}]`]:
        "The staged build is an object of the CDK bootstrap asset bucket, named by its hash at synthesis.",
      "AwsSolutions-IAM5[Resource::*]":
        "CDK grants the handler cloudfront:CreateInvalidation and GetInvalidation on *; its only input names this " +
        "distribution, whose cache it flushes after each deployment.",
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
    for (const f of [api, awaitHuman, reconcileExecution, runNext]) {
      acknowledge(f, {
        [`AwsSolutions-IAM5[Resource::${nagString(this, runMachine.executions)}]`]:
          "Executions are named after run ids, created at run time; the grant covers executions of this machine only.",
      });
    }
    acknowledge(api, {
      [`AwsSolutions-IAM5[Resource::${nagString(this, scheduleArns)}]`]:
        "Schedules are created by users at run time; the grant covers schedules in the stack's group only.",
    });

    new CfnOutput(this, "ApiUrl", { value: stage.url, description: "Base URL of the HTTP API" });
    new CfnOutput(this, "DashboardUrl", {
      value: `https://${this.distribution.distributionDomainName}/`,
      description: "The dashboard; the API is also served on this origin (/api/*, /hooks/*)",
    });
    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "BucketName", { value: this.bucket.bucketName });
    new CfnOutput(this, "RunStateMachineArn", { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, "JobStateMachineArn", { value: this.jobStateMachine.stateMachineArn });
  }
}
