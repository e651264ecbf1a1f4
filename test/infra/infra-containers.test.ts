import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Code, Function as LambdaFn, Runtime } from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import { Containers } from "../../infra/constructs/containers.ts";
import { ECS_TASK_GROUP } from "../../shared/adapters/ecs/ecs-task-driver.ts";
import { CONTAINER_ENV } from "../../shared/config.ts";

type Json = Record<string, any>;

/** The construct alone in a test stack, with stand-in functions for the engine and the wake-up target. */
function synth(userFunctions?: { prefix?: string; names?: string[] }) {
  const app = new App();
  const stack = new Stack(app, "ContainersTest", { env: { account: "123456789012", region: "eu-west-1" } });
  const fn = (id: string) =>
    new LambdaFn(stack, id, { runtime: Runtime.NODEJS_22_X, handler: "index.handler", code: Code.fromInline("x") });
  const engine = fn("Engine");
  const containers = new Containers(stack, "Containers", { onTaskStopped: fn("Wake"), userFunctions });
  containers.grantRunTasks(engine);
  containers.grantUserFunctions(engine);
  for (const [k, v] of Object.entries(containers.environment())) engine.addEnvironment(k, v);
  return { template: Template.fromStack(stack), stack, app };
}

const policyStatements = (template: Template): Json[] =>
  Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
    (p: Json) => p.Properties.PolicyDocument.Statement as Json[],
  );

describe("the containers construct", () => {
  const { template, app } = synth({ prefix: "team-", names: ["enrich"] });

  it("has the ECS cluster, log groups, task and execution roles for ECS tasks", () => {
    template.resourceCountIs("AWS::ECS::Cluster", 1);
    // The tasks' awslogs group, and the default VPC's flow log of rejected connections.
    template.resourceCountIs("AWS::Logs::LogGroup", 2);
    template.hasResourceProperties("AWS::EC2::FlowLog", { TrafficType: "REJECT" });
    const roles = template.findResources("AWS::IAM::Role", {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: "ecs-tasks.amazonaws.com" } })]),
        },
      },
    });
    expect(Object.keys(roles)).toHaveLength(2);
    // No NAT gateway: the default VPC has public subnets only.
    template.resourceCountIs("AWS::EC2::NatGateway", 0);
  });

  it("builds the stage image from the repo as an asset (synth stays offline)", () => {
    const dir = app.synth().directory;
    const manifest = JSON.parse(readFileSync(join(dir, "ContainersTest.assets.json"), "utf8"));
    const images = Object.values(manifest.dockerImages) as Json[];
    expect(images).toHaveLength(1);
    expect(images[0]?.source.directory).toMatch(/^asset\./);
    expect(readdirSync(join(dir, images[0]?.source.directory)).sort()).toEqual(["Dockerfile", "stage.mjs"]);
    const env = Object.values(template.findResources("AWS::Lambda::Function")).map(
      (f: Json) => f.Properties.Environment?.Variables ?? {},
    );
    const engineEnv = env.find((v: Json) => v[CONTAINER_ENV.cluster]) as Json;
    expect(JSON.stringify(engineEnv[CONTAINER_ENV.stageImage])).toMatch(/container-assets/);
    expect(Object.keys(engineEnv).sort()).toEqual(Object.values(CONTAINER_ENV).sort());
  });

  it("wakes the run on ECS Task State Change STOPPED of Stepwise tasks in its cluster", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: { lastStatus: ["STOPPED"], group: [ECS_TASK_GROUP], clusterArn: [Match.anyValue()] },
      },
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("^Wake"), "Arn"] } })],
    });
  });

  it("lets the engine run Stepwise task definitions in its cluster and pass only its two roles", () => {
    const statements = policyStatements(template);
    const run = statements.find((s) => s.Action === "ecs:RunTask") as Json;
    expect(JSON.stringify(run.Resource)).toMatch(/task-definition\/stepwise-\*:\*/);
    expect(run.Condition.ArnEquals["ecs:cluster"]).toBeDefined();
    const pass = statements.find((s) => s.Action === "iam:PassRole") as Json;
    expect(pass.Resource).toHaveLength(2);
    expect(statements.some((s) => JSON.stringify(s.Action).includes("ecs:StopTask"))).toBe(true);
  });

  it("grants invoke and configuration reads on the functions the deployer named, nothing wider", () => {
    const invoke = policyStatements(template).find((s) => JSON.stringify(s.Action).includes("lambda:InvokeFunction"));
    expect(invoke?.Action).toEqual(["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]);
    const resources = JSON.stringify(invoke?.Resource);
    expect(resources).toContain(":function:team-*");
    expect(resources).toContain(":function:enrich");
    expect(resources).toContain(":function:enrich:*");
    expect(resources).not.toMatch(/function:\*"/);
  });

  it("grants no Lambda invoke at all by default", () => {
    const { template: bare } = synth();
    expect(policyStatements(bare).some((s) => JSON.stringify(s.Action).includes("lambda:InvokeFunction"))).toBe(false);
  });

  it("gives the task role (what user code could use) no permissions", () => {
    const taskRole = Object.entries(template.findResources("AWS::IAM::Role")).find(([id]) => id.includes("TaskRole"));
    expect(taskRole).toBeDefined();
    const attached = Object.values(template.findResources("AWS::IAM::Policy")).filter((p: Json) =>
      JSON.stringify(p.Properties.Roles).includes(taskRole?.[0] as string),
    );
    expect(attached).toEqual([]);
  });
});
