import { join } from "node:path";
import { ArnFormat, RemovalPolicy, Stack } from "aws-cdk-lib";
import { FlowLogDestination, FlowLogTrafficType, type IVpc, SecurityGroup, SubnetType, Vpc } from "aws-cdk-lib/aws-ec2";
import { DockerImageAsset, Platform } from "aws-cdk-lib/aws-ecr-assets";
import { Cluster, ContainerImage } from "aws-cdk-lib/aws-ecs";
import { Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct, type IConstruct } from "constructs";
import { ECS_TASK_GROUP } from "../../shared/adapters/ecs/ecs-task-driver.ts";
import { CONTAINER_ENV } from "../../shared/config.ts";
import { acknowledge, nagString } from "../nag.ts";

/** What a Lambda function name (or a prefix of one) may contain. */
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The folder CDK builds the stage image from (at deploy time; synth only hashes it). */
export const STAGE_IMAGE_DIR = join(import.meta.dirname, "..", "stage-image");

export interface ContainersProps {
  /** Where the tasks run; default a VPC with public subnets only (no NAT gateway to pay for). */
  vpc?: IVpc;
  /** Woken by every stopped Stepwise task (EventBridge "ECS Task State Change", STOPPED). */
  onTaskStopped: IFunction;
  /**
   * The users' Lambda functions that lambda nodes may invoke: by name prefix and/or exact names. Nothing is granted
   * when both are unset.
   */
  userFunctions?: { prefix?: string; names?: string[] };
  /** ECR repositories (ARNs) user images may be pulled from; default: none beyond public registries. */
  imageRepositoryArns?: string[];
  logRetention?: RetentionDays;
}

/**
 * What container and lambda nodes need in the cloud: an ECS cluster, the task and execution roles, a log group, the
 * stage image (built from the repo as an asset), the STOPPED-task rule that wakes the run, and the grants.
 */
export class Containers extends Construct {
  readonly cluster: Cluster;
  readonly taskRole: Role;
  readonly executionRole: Role;
  readonly logGroup: LogGroup;
  readonly securityGroup: SecurityGroup;
  readonly stageImage: ContainerImage;
  readonly vpc: IVpc;
  private readonly stageImageUri: string;
  private readonly props: ContainersProps;

  constructor(scope: Construct, id: string, props: ContainersProps) {
    super(scope, id);
    this.props = props;
    this.vpc =
      props.vpc ??
      new Vpc(this, "Vpc", {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: "tasks", subnetType: SubnetType.PUBLIC }],
      });
    const retention = props.logRetention ?? RetentionDays.ONE_MONTH;
    if (!props.vpc) {
      // Rejected connections only: the tasks' traffic is outbound, and a refused one is what an audit asks about.
      this.vpc.addFlowLog("FlowLog", {
        trafficType: FlowLogTrafficType.REJECT,
        destination: FlowLogDestination.toCloudWatchLogs(
          new LogGroup(this, "FlowLogs", { retention, removalPolicy: RemovalPolicy.DESTROY }),
        ),
      });
    }
    this.cluster = new Cluster(this, "Cluster", { vpc: this.vpc });
    acknowledge(this.cluster, {
      "AwsSolutions-ECS4":
        "Container Insights bills metrics per task; each attempt's exit code, timing, digest and host are in the run " +
        "record, its logs in the awslogs group. Turn it on for the cluster if per-task CPU and memory graphs are wanted.",
    });
    this.logGroup = new LogGroup(this, "Logs", { retention, removalPolicy: RemovalPolicy.DESTROY });
    this.securityGroup = new SecurityGroup(this, "TaskSecurityGroup", {
      vpc: this.vpc,
      description: "Stepwise container tasks: outbound only",
      allowAllOutbound: true,
    });
    // The task role is what the user's code could use: it holds nothing (the stage containers use presigned URLs).
    this.taskRole = new Role(this, "TaskRole", {
      assumedBy: new ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "Stepwise container tasks: no permissions",
    });
    this.executionRole = new Role(this, "ExecutionRole", {
      assumedBy: new ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "Stepwise container tasks: pull images, write logs",
    });
    this.logGroup.grantWrite(this.executionRole);
    // Built from the repo at deploy time; synth only hashes the folder, so it stays offline.
    const stageAsset = new DockerImageAsset(this, "StageImage", {
      directory: STAGE_IMAGE_DIR,
      platform: Platform.LINUX_AMD64,
    });
    this.stageImage = ContainerImage.fromDockerImageAsset(stageAsset);
    this.stageImageUri = stageAsset.imageUri;
    stageAsset.repository.grantPull(this.executionRole);
    acknowledge(this.executionRole, {
      "AwsSolutions-IAM5[Resource::*]":
        "ecr:GetAuthorizationToken has no resource-level permissions; pulling is granted on the stage image's " +
        "repository (and the repositories the deployer named) only.",
    });
    if (props.imageRepositoryArns?.length) {
      this.executionRole.addToPolicy(
        new PolicyStatement({
          actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
          resources: props.imageRepositoryArns,
        }),
      );
    }
    new Rule(this, "TaskStopped", {
      description: "Wakes the run whose container task stopped",
      eventPattern: {
        source: ["aws.ecs"],
        detailType: ["ECS Task State Change"],
        detail: { clusterArn: [this.cluster.clusterArn], lastStatus: ["STOPPED"], group: [ECS_TASK_GROUP] },
      },
      targets: [new LambdaFunction(props.onTaskStopped, { retryAttempts: 8 })],
    });
  }

  /** The environment the engine's functions read the ECS settings from (shared/config.ts). */
  environment(): Record<string, string> {
    return {
      [CONTAINER_ENV.cluster]: this.cluster.clusterName,
      [CONTAINER_ENV.taskRoleArn]: this.taskRole.roleArn,
      [CONTAINER_ENV.executionRoleArn]: this.executionRole.roleArn,
      [CONTAINER_ENV.logGroup]: this.logGroup.logGroupName,
      [CONTAINER_ENV.stageImage]: this.stageImageUri,
      [CONTAINER_ENV.subnets]: this.vpc.selectSubnets({ subnetType: SubnetType.PUBLIC }).subnetIds.join(","),
      [CONTAINER_ENV.securityGroups]: this.securityGroup.securityGroupId,
      [CONTAINER_ENV.assignPublicIp]: this.props.vpc ? "false" : "true",
    };
  }

  /** Lets the engine register Stepwise task definitions, run, describe and stop tasks in this cluster. */
  grantRunTasks(grantee: IGrantable & IConstruct): void {
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: "ecs", resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const add = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources, conditions }));
    // RegisterTaskDefinition and DescribeTaskDefinition take no resource-level permissions.
    add(["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"], ["*"]);
    add(["ecs:RunTask"], [arn("task-definition", "stepwise-*:*")], {
      ArnEquals: { "ecs:cluster": this.cluster.clusterArn },
    });
    add(["ecs:TagResource"], ["*"], { StringEquals: { "ecs:CreateAction": "RunTask" } });
    add(["ecs:DescribeTasks", "ecs:StopTask"], [arn("task", `${this.cluster.clusterName}/*`)]);
    add(["iam:PassRole"], [this.taskRole.roleArn, this.executionRole.roleArn]);
    acknowledge(grantee, {
      "AwsSolutions-IAM5[Resource::*]":
        "ecs:RegisterTaskDefinition and DescribeTaskDefinition take no resource-level permissions, and " +
        "ecs:TagResource is limited to tags set by RunTask (ecs:CreateAction); X-Ray's writes need * as well.",
      [`AwsSolutions-IAM5[Resource::${nagString(this, arn("task-definition", "stepwise-*:*"))}]`]:
        "Task definitions are registered at run time, one per image digest and size, all in the stepwise-* families; " +
        "RunTask is further limited to this cluster.",
      [`AwsSolutions-IAM5[Resource::${nagString(this, arn("task", `${this.cluster.clusterName}/*`))}]`]:
        "Tasks are created at run time (one per container attempt); describe and stop are limited to this cluster.",
    });
  }

  /** Lets the engine invoke and read the configuration of the functions the deployer named; nothing by default. */
  grantUserFunctions(grantee: IGrantable): void {
    const { prefix, names = [] } = this.props.userFunctions ?? {};
    // A name's characters only: a `*` or an ARN in the setting would widen the grant past what the deployer named.
    for (const name of [...(prefix === undefined ? [] : [prefix]), ...names]) {
      if (!FUNCTION_NAME.test(name))
        throw new Error(`lambda node functions: '${name}' is not a function name or prefix (letters, digits, - and _)`);
    }
    const stack = Stack.of(this);
    const fn = (name: string) =>
      stack.formatArn({
        service: "lambda",
        resource: "function",
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const resources = [...(prefix ? [fn(`${prefix}*`)] : []), ...names.flatMap((n) => [fn(n), fn(`${n}:*`)])];
    if (!resources.length) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"], resources }),
    );
  }
}
