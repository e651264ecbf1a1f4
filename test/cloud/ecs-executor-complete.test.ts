// The ECS executor's complete() when no STOPPED event carries the task (a lost event, a timeout): it asks ECS
// (DescribeTasks) and turns the answer and the stage-out result in S3 into the attempt's outcome. S3 is moto's.
// DescribeTasks is answered by a stand-in with the JSON ECS documents for a stopped task: moto runs no containers,
// so its DescribeTasks never carries an exit code or an image digest, which is what this test is about.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ECSClient } from "@aws-sdk/client-ecs";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeS3Client } from "../../shared/adapters/aws-clients.ts";
import { EcsContainerExecutor } from "../../shared/adapters/ecs/ecs-executor.ts";
import { ECS_CONTAINERS, EcsTaskDriver } from "../../shared/adapters/ecs/ecs-task-driver.ts";
import { S3BlobStore } from "../../shared/adapters/s3-blob-store.ts";
import { TarWriter } from "../../shared/evidence/tar.ts";
import { CostMeter } from "../../shared/ports/metrics.ts";
import type { ExternalHandle } from "../../shared/ports/task-executor.ts";
import { type Moto, skipWithoutMoto, startMoto } from "../support/moto.ts";

const TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/stepwise/0f5b1c2d3e4f40718293a4b5c6d7e8f9";
const DIGEST = `sha256:${"d".repeat(64)}`;
const STARTED = 1_764_820_800.123; // DescribeTasks' timestamps are epoch seconds with milliseconds
const STOPPED = 1_764_820_842.5;

/** A stopped Stepwise task as DescribeTasks returns it, the user's container as given. */
function describedTask(task: Record<string, unknown>) {
  return {
    taskArn: TASK_ARN,
    clusterArn: "arn:aws:ecs:eu-west-1:123456789012:cluster/stepwise",
    lastStatus: "STOPPED",
    desiredStatus: "STOPPED",
    availabilityZone: "eu-west-1b",
    launchType: "FARGATE",
    group: "stepwise",
    startedBy: "default/run_01JTEST/train/1",
    stopCode: "EssentialContainerExited",
    stoppedReason: "Essential container in task exited",
    createdAt: STARTED - 20,
    startedAt: STARTED,
    stoppedAt: STOPPED,
    containers: [
      { name: ECS_CONTAINERS.stageIn, lastStatus: "STOPPED", exitCode: 0, imageDigest: `sha256:${"e".repeat(64)}` },
      { name: ECS_CONTAINERS.task, lastStatus: "STOPPED", ...task },
      { name: ECS_CONTAINERS.stageOut, lastStatus: "STOPPED", exitCode: 0, imageDigest: `sha256:${"e".repeat(64)}` },
    ],
  };
}

describe.skipIf(skipWithoutMoto)("the ECS executor completing an attempt from DescribeTasks", () => {
  let moto: Moto;
  let ecs: Server;
  let answer: Record<string, unknown> = {};
  const targets: string[] = [];
  let blobs: S3BlobStore;

  beforeAll(async () => {
    moto = await startMoto();
    const s3 = makeS3Client({ endpoint: moto.endpoint });
    await s3.send(new CreateBucketCommand({ Bucket: "stepwise-ecs-complete" }));
    blobs = new S3BlobStore(s3, "stepwise-ecs-complete");
    ecs = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        targets.push(String(req.headers["x-amz-target"]));
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify({ tasks: [answer], failures: [] }));
      });
    });
    await new Promise<void>((r) => ecs.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    await new Promise<void>((r) => ecs?.close(() => r()));
    await moto?.stop();
  });

  function executor(meter: CostMeter): EcsContainerExecutor {
    const client = new ECSClient({
      endpoint: `http://127.0.0.1:${(ecs.address() as AddressInfo).port}`,
      region: "eu-west-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const driver = new EcsTaskDriver(
      client,
      {
        cluster: "stepwise",
        taskRoleArn: "arn:aws:iam::123456789012:role/task",
        executionRoleArn: "arn:aws:iam::123456789012:role/exec",
        logGroup: "/stepwise/containers",
        region: "eu-west-1",
        stageImage: "stage:1",
        subnets: ["subnet-1"],
        securityGroups: ["sg-1"],
      },
      meter,
    );
    const clock = { nowMs: () => STOPPED * 1000 + 5000 };
    return new EcsContainerExecutor(driver, blobs, join(tmpdir(), "stepwise-ecs-complete"), clock);
  }

  /** The stage-out result the stage container uploads: out/ files, the output file and result.json. */
  async function putResult(prefix: string, output: string): Promise<void> {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    const tar = new TarWriter(stream);
    await tar.add("out/model.txt", Buffer.from("trained\n"));
    await tar.add("output.env", Buffer.from(output));
    await tar.add("result.json", Buffer.from(JSON.stringify({ exitCode: 0 })));
    await tar.finish();
    await blobs.put(`${prefix}/result.tar`, Buffer.concat(chunks));
  }

  const handle = (prefix: string): ExternalHandle => ({
    ref: TASK_ARN,
    startedAt: "2025-12-04T04:00:00.000000Z",
    deadlineMs: STOPPED * 1000 + 3_600_000,
    data: { prefix, image: "registry.example.com/team/train:1", command: ["python", "train.py"] },
  });

  it("takes the exit code, the digest ECS pulled and the task's ARN and AZ as host", async () => {
    const prefix = "stage/default/run_01JTEST/train/1-aa";
    await putResult(prefix, "rows:number=42\n");
    answer = describedTask({ exitCode: 0, imageDigest: DIGEST, image: "registry.example.com/team/train:1" });
    const meter = new CostMeter();
    const outcome = await executor(meter).complete(handle(prefix), undefined);
    try {
      expect(outcome).toMatchObject({
        status: "succeeded",
        exitCode: 0,
        image: "registry.example.com/team/train:1",
        imageHash: DIGEST,
        host: `${TASK_ARN} (eu-west-1b)`,
        command: JSON.stringify(["python", "train.py"]),
        outputVariables: { rows: { type: "number", value: 42 } },
        error: null,
      });
      // Timing from ECS's own clock, to the microsecond the record keeps.
      expect(outcome.startedAt).toBe(new Date(STARTED * 1000).toISOString().replace("Z", "000Z"));
      expect(outcome.durationMs).toBeCloseTo((STOPPED - STARTED) * 1000, 3);
      expect(targets.at(-1)).toBe("AmazonEC2ContainerServiceV20141113.DescribeTasks");
      expect(meter.ecsDescribeTasks).toBe(1);
    } finally {
      await outcome.cleanup();
    }
  });

  it("fails the attempt with the container's exit code, and with image_not_found when ECS could not pull", async () => {
    const prefix = "stage/default/run_01JTEST/train/2-bb";
    await putResult(prefix, "");
    answer = describedTask({ exitCode: 137, imageDigest: DIGEST });
    const killed = await executor(new CostMeter()).complete(handle(prefix), undefined);
    await killed.cleanup();
    expect(killed).toMatchObject({ status: "failed", exitCode: 137, imageHash: DIGEST });
    expect(killed.error).toEqual({ code: "task_failed", message: "the container exited with code 137" });

    const pull = "CannotPullContainerError: failed to resolve ref registry.example.com/team/train:1: not found";
    answer = { ...describedTask({ reason: pull }), stopCode: "TaskFailedToStart", stoppedReason: pull };
    const missing = await executor(new CostMeter()).complete(handle("stage/none"), undefined);
    await missing.cleanup();
    expect(missing).toMatchObject({
      status: "failed",
      exitCode: null,
      image: "registry.example.com/team/train:1",
      imageHash: "",
    });
    expect(missing.error?.code).toBe("image_not_found");
  });
});
