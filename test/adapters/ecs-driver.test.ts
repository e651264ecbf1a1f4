import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CreateClusterCommand,
  ECSClient,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ECS_CONTAINERS,
  ECS_TASK_GROUP,
  EcsTaskDriver,
  fargateSize,
  stoppedStepwiseTask,
} from "../../shared/adapters/ecs/ecs-task-driver.ts";
import { readTar } from "../../shared/evidence/tar.ts";
import { CostMeter } from "../../shared/ports/metrics.ts";
import { type Moto, motoClientConfig, skipWithoutMoto, startMoto } from "../support/moto.ts";

const settings = {
  cluster: "stepwise",
  taskRoleArn: "arn:aws:iam::123456789012:role/stepwise-task",
  executionRoleArn: "arn:aws:iam::123456789012:role/stepwise-exec",
  logGroup: "/stepwise/containers",
  region: "us-east-1",
  stageImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-assets:stage",
  subnets: ["subnet-1"],
  securityGroups: ["sg-1"],
};
const attempt = { orgId: "default", runId: "run_01JTEST", nodeId: "train", attempt: 2 };

describe("Fargate sizes", () => {
  it("picks the smallest size that fits the container and the two stage containers", () => {
    expect(fargateSize()).toEqual({ cpu: 256, memory: 1024 });
    expect(fargateSize(1024, 2048)).toEqual({ cpu: 1024, memory: 3072 });
    expect(fargateSize(4096, 30_000)).toEqual({ cpu: 4096, memory: 30_720 });
    expect(fargateSize(4096, 30_720)).toEqual({ cpu: 8192, memory: 32_768 });
    expect(() => fargateSize(16_384, 122_880)).toThrow(/no Fargate size/);
  });
});

describe("RunTask request", () => {
  // A recording stand-in, not moto: moto 5.2.1's Fargate RunTask crashes with awsvpc networking (its
  // NetworkInterface has no private_dns_name) and refuses Fargate without it, so the request is checked as sent.
  it("starts stage-in, the user's container and stage-out with the attempt's env, tags and group", async () => {
    const sent: RunTaskCommandInput[] = [];
    const recorder = {
      send: async (cmd: RunTaskCommand) => {
        sent.push(cmd.input);
        return { tasks: [{ taskArn: "arn:aws:ecs:us-east-1:123456789012:task/stepwise/abc" }] };
      },
    } as unknown as ECSClient;
    const meter = new CostMeter();
    const arn = await new EcsTaskDriver(recorder, settings, meter).run({
      taskDefinitionArn: "arn:td",
      command: ["sh", "-c", "echo hi"],
      env: { ROWS: "3" },
      stageInUrl: "https://s3/in?sig",
      stageOutUrl: "https://s3/out?sig",
      attempt,
    });
    expect(arn).toMatch(/task\/stepwise\/abc$/);
    expect(meter.ecsRunTasks).toBe(1);
    const input = sent[0] as RunTaskCommandInput;
    expect(input).toMatchObject({
      cluster: "stepwise",
      launchType: "FARGATE",
      group: ECS_TASK_GROUP,
      startedBy: "default/run_01JTEST/train/2",
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"], assignPublicIp: "DISABLED" } },
    });
    expect(input.tags).toContainEqual({ key: "stepwise:run", value: "run_01JTEST" });
    const [stageIn, user, stageOut] = input.overrides?.containerOverrides ?? [];
    expect(stageIn).toEqual({
      name: ECS_CONTAINERS.stageIn,
      environment: [{ name: "STEPWISE_STAGE_IN_URL", value: "https://s3/in?sig" }],
    });
    expect(user?.command).toEqual(["sh", "-c", "echo hi"]);
    expect(user?.environment).toContainEqual({ name: "ROWS", value: "3" });
    expect(user?.environment).toContainEqual({ name: "STEPWISE_OUTPUT", value: "/run/stepwise/output.env" });
    // The presigned URLs reach only the stage containers, never the user's.
    expect(JSON.stringify(user)).not.toContain("s3/");
    expect(stageOut?.environment).toEqual([{ name: "STEPWISE_STAGE_OUT_URL", value: "https://s3/out?sig" }]);
  });
});

describe.skipIf(skipWithoutMoto)("the ECS driver against moto", () => {
  let moto: Moto;
  let client: ECSClient;
  beforeAll(async () => {
    moto = await startMoto();
    client = new ECSClient(motoClientConfig(moto.endpoint));
    await client.send(new CreateClusterCommand({ clusterName: "stepwise" }));
  });
  afterAll(() => moto?.stop());

  it("registers a task definition per image and size on first use and reuses it", async () => {
    const driver = new EcsTaskDriver(client, settings);
    const image = `registry.example.com/team/train@sha256:${"a".repeat(64)}`;
    const first = await driver.taskDefinition(image, { cpu: 1024, memoryMiB: 2048 });
    const again = await driver.taskDefinition(image, { cpu: 1024, memoryMiB: 2048 });
    const bigger = await driver.taskDefinition(image, { cpu: 2048, memoryMiB: 4096 });
    expect(again).toBe(first);
    expect(bigger).not.toBe(first);
    expect(first).toMatch(/:task-definition\/stepwise-[0-9a-f]{24}:1$/);
  });

  it("describes and stops a task, and recognises its STOPPED event", async () => {
    // moto runs only EC2-launch tasks, on a registered container instance: the view and stop are the same calls.
    const ec2 = await fetch(moto.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization:
          "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: "Action=RunInstances&ImageId=ami-12c6146b&MinCount=1&MaxCount=1&InstanceType=t3.micro&Version=2016-11-15",
    }).then((r) => r.text());
    const instanceId = /<instanceId>([^<]+)</.exec(ec2)?.[1];
    await client.send(
      new RegisterContainerInstanceCommand({
        cluster: "stepwise",
        instanceIdentityDocument: JSON.stringify({ instanceId }),
      }),
    );
    await client.send(
      new RegisterTaskDefinitionCommand({
        family: "ec2-stand-in",
        containerDefinitions: [{ name: ECS_CONTAINERS.task, image: "busybox", memory: 128 }],
      }),
    );
    const run = await client.send(
      new RunTaskCommand({
        cluster: "stepwise",
        taskDefinition: "ec2-stand-in",
        group: ECS_TASK_GROUP,
        startedBy: "default/run_01JTEST/train/2",
      }),
    );
    const taskArn = run.tasks?.[0]?.taskArn as string;
    const meter = new CostMeter();
    const driver = new EcsTaskDriver(client, settings, meter);
    expect((await driver.describe(taskArn))?.taskArn).toBe(taskArn);
    await driver.stop(taskArn, "stepwise: timed out after 60s");
    const stopped = await driver.describe(taskArn);
    expect(stopped).toMatchObject({ taskArn, lastStatus: "STOPPED", stoppedReason: "stepwise: timed out after 60s" });
    expect(meter.ecsDescribeTasks).toBe(2);
    // EventBridge's "ECS Task State Change" detail is the DescribeTasks task shape.
    const described = JSON.parse(
      JSON.stringify({ ...stopped, group: ECS_TASK_GROUP, startedBy: "default/run_01JTEST/train/2" }),
    );
    const event = {
      "detail-type": "ECS Task State Change",
      source: "aws.ecs",
      detail: {
        ...described,
        containers: [{ name: ECS_CONTAINERS.task, exitCode: 0, imageDigest: `sha256:${"b".repeat(64)}` }],
      },
    };
    expect(stoppedStepwiseTask(event)).toMatchObject({
      attempt,
      view: { taskArn, task: { exitCode: 0, imageDigest: `sha256:${"b".repeat(64)}` } },
    });
    expect(stoppedStepwiseTask({ ...event, detail: { ...event.detail, group: "family:other" } })).toBeNull();
    expect(stoppedStepwiseTask({ ...event, detail: { ...event.detail, lastStatus: "RUNNING" } })).toBeNull();
  });
});

describe("the stage containers' script", () => {
  let server: Server;
  let base = "";
  let uploaded: Buffer = Buffer.alloc(0);
  const data = Buffer.from("a,b\n1,2\n");
  const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.url === "/manifest")
          res.end(
            JSON.stringify({
              context: { rows: 2 },
              files: [{ path: "data/x.csv", sha256: sha(data), url: `${base}/file` }],
            }),
          );
        else if (req.url === "/bad-manifest")
          res.end(
            JSON.stringify({ files: [{ path: "x.csv", sha256: sha(Buffer.from("other")), url: `${base}/file` }] }),
          );
        else if (req.url === "/file") res.end(data);
        else if (req.url === "/meta/task")
          res.end(
            JSON.stringify({
              TaskARN: "arn:task",
              AvailabilityZone: "us-east-1a",
              Containers: [{ Name: "task", ExitCode: 3, ImageID: "sha256:abc" }],
            }),
          );
        else if (req.url === "/upload" && req.method === "PUT") {
          uploaded = Buffer.concat(chunks);
          res.end();
        } else res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const stage = (step: string, env: Record<string, string>) =>
    promisify(execFile)(process.execPath, ["infra/stage-image/stage.mjs", step], {
      env: { ...env, PATH: process.env.PATH },
    });

  it("places inputs checked against their hashes, then uploads out/, the output file and the exit code", async () => {
    const root = await mkdtemp(join(tmpdir(), "stepwise-stage-"));
    const dirs = { STEPWISE_WORK_DIR: join(root, "work"), STEPWISE_META_DIR: join(root, "meta") };
    await stage("in", { ...dirs, STEPWISE_STAGE_IN_URL: `${base}/manifest` });
    expect(await readFile(join(root, "work", "in", "data", "x.csv"))).toEqual(data);
    expect(JSON.parse(await readFile(join(root, "meta", "context.json"), "utf8"))).toEqual({ rows: 2 });
    // What the user's container would do:
    await writeFile(join(root, "work", "out", "report.txt"), "rows=2\n");
    await writeFile(join(root, "meta", "output.env"), "rows:number=2\n");
    await stage("out", {
      ...dirs,
      STEPWISE_STAGE_OUT_URL: `${base}/upload`,
      ECS_CONTAINER_METADATA_URI_V4: `${base}/meta`,
    });
    const entries: Record<string, string> = {};
    for await (const e of readTar(
      (async function* () {
        yield uploaded;
      })(),
    )) {
      const parts: Buffer[] = [];
      for await (const c of e.body) parts.push(c);
      entries[e.name] = Buffer.concat(parts).toString();
    }
    expect(entries).toEqual({
      "out/report.txt": "rows=2\n",
      "output.env": "rows:number=2\n",
      "result.json": JSON.stringify({
        exitCode: 3,
        imageDigest: "sha256:abc",
        taskArn: "arn:task",
        availabilityZone: "us-east-1a",
      }),
    });
  });

  it("fails stage-in when an input does not match its recorded hash", async () => {
    const root = await mkdtemp(join(tmpdir(), "stepwise-stage-"));
    const err = await stage("in", {
      STEPWISE_WORK_DIR: join(root, "work"),
      STEPWISE_META_DIR: join(root, "meta"),
      STEPWISE_STAGE_IN_URL: `${base}/bad-manifest`,
    }).catch((e: { stderr: string; code: number }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(/x\.csv does not match its recorded hash/);
  });
});
