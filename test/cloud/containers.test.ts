// Container and lambda nodes through the stack's own functions, every AWS call against moto: Advance starts an ECS
// task per container attempt (RunTask recorded as sent, see support/ecs-stand-in.ts), the stage containers' script
// runs here around the user's command, and ContainerStopped gets the "ECS Task State Change" event as EventBridge
// delivers it. A lambda node invokes a function in moto's Lambda. What a user sees is read through the api function.
import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { CreateFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ECS_CONTAINERS, ECS_TASK_GROUP } from "../../shared/adapters/ecs/ecs-task-driver.ts";
import { CONTAINER_ENV } from "../../shared/config.ts";
import { motoLambdaResults, motoRole } from "../support/moto.ts";
import { ACCOUNT, PLATFORM_KEY, REGION } from "./support/cloud-stack.ts";
import { type EcsStandIn, startEcsStandIn } from "./support/ecs-stand-in.ts";
import { type Scenario, startScenario } from "./support/scenario.ts";
import { type Json, synthesizeStack } from "./support/synth.ts";
import { serveTaskMetadata } from "./support/task-metadata.ts";
import { requireTool } from "./support/tools.ts";

const motoServer = requireTool("moto_server");
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });
const run = promisify(execFile);
const STAGE_SCRIPT = new URL("../../infra/stage-image/stage.mjs", import.meta.url).pathname;
const IMAGE = "registry.example.com/team/train:1";
const DIGEST = `sha256:${"c".repeat(64)}`;
const AZ = `${REGION}b`;

let s: Scenario;
let ecsStandIn: EcsStandIn;
let ecs: ECSClient;
let cfg: Json;
let cluster: string;

async function api(method: string, path: string, body?: unknown) {
  return s.api(method, path, { key: PLATFORM_KEY, body });
}

async function trigger(definition: Json): Promise<string> {
  const put = await api("PUT", `/api/workflows/${definition.name}`, definition);
  expect(put.status, put.text).toBe(201);
  const res = await api("POST", `/api/workflows/${definition.name}/trigger`, {});
  expect(res.status, res.text).toBe(202);
  return res.body.runId as string;
}

/** One Advance call as the state machine makes it, then AwaitHuman parking the run with a task token if asked. */
async function advance(runId: string): Promise<Json> {
  const out = (await s.invoke("advanceRun", { runId, orgId: "default" })) as Json;
  if (out.next === "human") {
    await s.invoke("awaitHuman", {
      runId,
      orgId: "default",
      seq: out.seq,
      token: `token-${runId}`,
      humanTimeoutSeconds: out.Payload.humanTimeoutSeconds,
    });
  }
  return out;
}

/** The environment a container of the task gets from RunTask's overrides. */
function overrideEnv(req: RunTaskCommandInput, name: string): Record<string, string> {
  const o = req.overrides?.containerOverrides?.find((c) => c.name === name);
  return Object.fromEntries((o?.environment ?? []).map((e) => [e.name as string, e.value as string]));
}

/** The moto task a RunTask request started, found by its startedBy. */
async function taskOf(req: RunTaskCommandInput): Promise<string> {
  const listed = await ecs.send(new ListTasksCommand({ cluster, startedBy: req.startedBy }));
  expect(listed.taskArns, JSON.stringify(listed)).toHaveLength(1);
  return listed.taskArns?.[0] as string;
}

/**
 * The "ECS Task State Change" event EventBridge delivers when the task stops: its detail is the DescribeTasks task
 * (dates as ISO strings). moto runs no containers, so the containers' exit codes, digests and reasons and the AZ are
 * what the test says ECS would report.
 */
async function stoppedEvent(taskArn: string, containers: Record<string, Json>, stop: Json): Promise<Json> {
  await ecs.send(new StopTaskCommand({ cluster, task: taskArn, reason: String(stop.stoppedReason) }));
  const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
  const task = JSON.parse(JSON.stringify(described.tasks?.[0])) as Json;
  expect(task.lastStatus).toBe("STOPPED");
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "ECS Task State Change",
    source: "aws.ecs",
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [taskArn],
    detail: {
      ...task,
      ...stop,
      availabilityZone: AZ,
      containers: Object.values(ECS_CONTAINERS).map((name) => ({
        ...(task.containers as Json[] | undefined)?.find((c) => c.name === name),
        name,
        taskArn,
        lastStatus: "STOPPED",
        ...containers[name],
      })),
    },
  };
}

describe.skipIf(!motoServer)("container and lambda nodes in the cloud functions, on moto", () => {
  beforeAll(async () => {
    const { stack, template } = synthesizeStack();
    s = await startScenario(motoServer as string, stack, template, { executeStateMachines: false });
    cfg = { endpoint: s.moto.endpoint, region: REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
    ecs = new ECSClient(cfg);
    cluster = s.cloud.environments.advanceRun[CONTAINER_ENV.cluster] as string;
    ecsStandIn = await startEcsStandIn(s.moto.endpoint, cluster);
    // Set before any function loads: every ECS client of theirs goes through the recorder.
    process.env.AWS_ENDPOINT_URL_ECS = ecsStandIn.endpoint;
  }, 180_000);
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_ECS;
    await ecsStandIn?.stop();
    await s?.stop();
  });

  it("runs a container attempt as a Fargate task and records it when ECS reports the task stopped", async () => {
    const command = ["sh", "-c", 'echo "rows:number=3" >> "$STEPWISE_OUTPUT" && echo trained > out/model.txt'];
    const runId = await trigger({
      name: "cloud-container",
      nodes: [{ id: "train", type: "container", image: IMAGE, command, resources: { cpu: 256, memoryMiB: 512 } }],
    });
    const parked = await advance(runId);
    expect(parked.next).toBe("human");
    expect((await api("GET", `/api/runs/${runId}`)).body).toMatchObject({ status: "running", lane: "standard" });
    expect((await api("GET", `/api/runs/${runId}/tasks/train`)).body.status).toBe("running");

    // The request as ECS would get it, and the task definition registered in moto for the image and size.
    expect(ecsStandIn.runTasks).toHaveLength(1);
    const req = ecsStandIn.runTasks[0] as RunTaskCommandInput;
    const env = s.cloud.environments.advanceRun;
    expect(req).toMatchObject({
      cluster,
      launchType: "FARGATE",
      group: ECS_TASK_GROUP,
      startedBy: `default/${runId}/train/1`,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: String(env[CONTAINER_ENV.subnets]).split(","),
          securityGroups: [env[CONTAINER_ENV.securityGroups]],
          assignPublicIp: "ENABLED",
        },
      },
    });
    expect(overrideEnv(req, ECS_CONTAINERS.task)).toMatchObject({ STEPWISE_RUN_ID: runId, STEPWISE_NODE_ID: "train" });
    const def = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: req.taskDefinition })))
      .taskDefinition as Json;
    expect(def).toMatchObject({
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      executionRoleArn: env[CONTAINER_ENV.executionRoleArn],
      taskRoleArn: env[CONTAINER_ENV.taskRoleArn],
    });
    expect((def.containerDefinitions as Json[]).map((c) => [c.name, c.image])).toEqual([
      [ECS_CONTAINERS.stageIn, env[CONTAINER_ENV.stageImage]],
      [ECS_CONTAINERS.task, IMAGE],
      [ECS_CONTAINERS.stageOut, env[CONTAINER_ENV.stageImage]],
    ]);
    expect(ecsStandIn.operations).toEqual(["DescribeTaskDefinition", "RegisterTaskDefinition", "RunTask"]);

    // The task's three containers, played here: the stage script (as in Stepwise's stage image) around the command.
    const taskArn = await taskOf(req);
    const dir = await mkdtemp(join(tmpdir(), "stepwise-cloud-task-"));
    const metadata = await serveTaskMetadata({
      TaskARN: taskArn,
      AvailabilityZone: AZ,
      Containers: [{ Name: ECS_CONTAINERS.task, ExitCode: 0, ImageID: DIGEST }],
    });
    try {
      const dirs = { STEPWISE_WORK_DIR: join(dir, "stepwise"), STEPWISE_META_DIR: join(dir, "meta") };
      const stage = (step: string, extra: Record<string, string>) =>
        run(process.execPath, [STAGE_SCRIPT, step], { env: { PATH: process.env.PATH, ...dirs, ...extra } });
      await stage("in", overrideEnv(req, ECS_CONTAINERS.stageIn));
      await mkdir(dirs.STEPWISE_WORK_DIR, { recursive: true });
      await run(command[0] as string, command.slice(1), {
        cwd: dirs.STEPWISE_WORK_DIR,
        env: { PATH: process.env.PATH, STEPWISE_OUTPUT: join(dirs.STEPWISE_META_DIR, "output.env") },
      });
      await stage("out", { ...overrideEnv(req, ECS_CONTAINERS.stageOut), ECS_CONTAINER_METADATA_URI_V4: metadata.url });
    } finally {
      await metadata.stop();
      await rm(dir, { recursive: true, force: true });
    }

    const event = await stoppedEvent(
      taskArn,
      {
        [ECS_CONTAINERS.stageIn]: { exitCode: 0 },
        [ECS_CONTAINERS.task]: { exitCode: 0, imageDigest: DIGEST, image: IMAGE },
        [ECS_CONTAINERS.stageOut]: { exitCode: 0 },
      },
      { stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" },
    );
    expect(await s.invoke("containerStopped", event)).toEqual({ recorded: true });
    // EventBridge delivers at least once: the same event again changes nothing.
    expect(await s.invoke("containerStopped", event)).toEqual({ recorded: false });

    const task = (await api("GET", `/api/runs/${runId}/tasks/train`)).body as Json;
    expect(task).toMatchObject({
      status: "succeeded",
      image: IMAGE,
      imageHash: DIGEST,
      exitCode: 0,
      host: `${taskArn} (${AZ})`,
      command: JSON.stringify(command),
      outputVariables: { rows: { type: "number", value: 3 } },
    });
    const trained = `sha256:${createHash("sha256").update("trained\n").digest("hex")}`;
    expect(task.outputs).toEqual([expect.objectContaining({ sha256: trained })]);
    // The wake-up resumed the execution; its next Advance ends the run.
    expect((await advance(runId)).next).toBe("done");
    const ended = (await api("GET", `/api/runs/${runId}`)).body as Json;
    expect(ended).toMatchObject({ status: "succeeded", context: { rows: { type: "number", value: 3 } } });
  });

  it("records an image ECS could not pull as image_not_found, with the image as written and no digest", async () => {
    const image = "registry.example.com/team/missing:1";
    const runId = await trigger({
      name: "cloud-missing-image",
      nodes: [{ id: "ghost", type: "container", image, command: ["true"] }],
    });
    await advance(runId);
    const req = ecsStandIn.runTasks.find((r) => r.startedBy === `default/${runId}/ghost/1`) as RunTaskCommandInput;
    expect(req).toBeDefined();
    const pull = `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${image}: not found`;
    const event = await stoppedEvent(
      await taskOf(req),
      { [ECS_CONTAINERS.task]: { reason: pull } },
      { stopCode: "TaskFailedToStart", stoppedReason: pull },
    );
    expect(await s.invoke("containerStopped", event)).toEqual({ recorded: true });
    const task = (await api("GET", `/api/runs/${runId}/tasks/ghost`)).body as Json;
    expect(task).toMatchObject({ status: "failed", image, imageHash: "", exitCode: null });
    expect(task.error).toMatchObject({ code: "image_not_found" });
    expect(task.error.message).toContain(image);
    // The wake-up resumes the execution; its next Advance ends the run failed with the task's error.
    expect((await advance(runId)).next).toBe("failed");
    const ended = (await api("GET", `/api/runs/${runId}`)).body as Json;
    expect(ended).toMatchObject({ status: "failed", error: { code: "image_not_found" } });
  });

  it("invokes a lambda node's function in moto's Lambda, in the Express lane, with its ARN and code hash", async () => {
    const zip = Buffer.from("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", "base64"); // an empty zip archive
    const created = await new LambdaClient(cfg).send(
      new CreateFunctionCommand({
        FunctionName: "team-enrich",
        Runtime: "nodejs22.x",
        Role: await motoRole(s.moto.endpoint, "team-enrich-role"),
        Handler: "index.handler",
        Code: { ZipFile: zip },
      }),
    );
    await motoLambdaResults(s.moto.endpoint, [{ rows: 5 }]);
    const runId = await trigger({
      name: "cloud-lambda",
      nodes: [{ id: "enrich", type: "lambda", function: "team-enrich", payload: { day: "2026-12-04" } }],
    });
    // No human step, long wait or container: the run took the Express machine.
    const express = await new SFNClient(cfg).send(
      new ListExecutionsCommand({ stateMachineArn: s.cloud.runExpressMachineArn }),
    );
    expect(express.executions?.map((e) => e.name)).toContain(runId);
    expect((await advance(runId)).next).toBe("done");
    const ended = (await api("GET", `/api/runs/${runId}`)).body as Json;
    expect(ended).toMatchObject({ status: "succeeded", lane: "express", context: { rows: { value: 5 } } });
    const task = (await api("GET", `/api/runs/${runId}/tasks/enrich`)).body as Json;
    expect(task).toMatchObject({
      status: "succeeded",
      image: `${created.FunctionArn}:$LATEST`,
      imageHash: `sha256:${createHash("sha256").update(zip).digest("hex")}`,
    });
    const sent = JSON.stringify({ day: "2026-12-04" });
    expect(task.codeHash).toBe(`sha256:${createHash("sha256").update(sent).digest("hex")}`);
  });

  it("sweeps Express runs on EventBridge's schedule, leaving one whose execution may still be alive", async () => {
    const runId = await trigger({
      name: "cloud-express-young",
      nodes: [{ id: "enrich", type: "lambda", function: "team-enrich", payload: {} }],
    });
    // What the rule's schedule sends: a Scheduled Event with nothing of Stepwise in it.
    const swept = await s.invoke("sweepExpressRuns", {
      version: "0",
      id: randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/SweepExpressRunsSchedule`],
      detail: {},
    });
    expect(swept).toEqual({ reconciled: [] });
    const untouched = (await api("GET", `/api/runs/${runId}`)).body as Json;
    expect(untouched.lane).toBe("express");
    expect(["queued", "running"]).toContain(untouched.status);
  });
});
