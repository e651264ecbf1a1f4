// ECS as far as moto 5.2.1 can be it. Every ECS call of the functions goes through this recorder to moto, except
// RunTask: moto's Fargate RunTask crashes with awsvpc networking (its NetworkInterface has no private_dns_name) and
// refuses Fargate without it, so the recorder keeps the request as sent and starts its stand-in in moto instead: the
// same containers, overrides, group, startedBy and tags in a bridge-mode copy of the task definition, launched on
// an EC2 container instance registered for the purpose. DescribeTasks, StopTask and the STOPPED event then concern
// a task moto really has. moto runs no containers: exit codes and digests are for the test to supply.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  type RunTaskCommandInput,
} from "@aws-sdk/client-ecs";
import { REGION } from "./cloud-stack.ts";

export interface EcsStandIn {
  /** The endpoint the functions' ECS clients use (AWS_ENDPOINT_URL_ECS). */
  endpoint: string;
  /** Every ECS operation the functions called, in order (the X-Amz-Target's operation name). */
  operations: string[];
  /** The RunTask requests exactly as the functions sent them. */
  runTasks: RunTaskCommandInput[];
  stop(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** An EC2 instance in moto, registered as a container instance of the cluster (what EC2-launch RunTask needs). */
async function registerInstance(motoEndpoint: string, ecs: ECSClient, cluster: string): Promise<void> {
  const ec2 = await fetch(motoEndpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      // moto routes by the service in the credential scope.
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: "Action=RunInstances&ImageId=ami-12c6146b&MinCount=1&MaxCount=1&InstanceType=t3.micro&Version=2016-11-15",
  }).then((r) => r.text());
  const instanceId = /<instanceId>([^<]+)</.exec(ec2)?.[1];
  if (!instanceId) throw new Error(`moto started no EC2 instance: ${ec2.slice(0, 300)}`);
  await ecs.send(
    new RegisterContainerInstanceCommand({ cluster, instanceIdentityDocument: JSON.stringify({ instanceId }) }),
  );
}

/** Starts the recorder in front of moto for the given cluster (by name). */
export async function startEcsStandIn(motoEndpoint: string, cluster: string): Promise<EcsStandIn> {
  const ecs = new ECSClient({
    endpoint: motoEndpoint,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await registerInstance(motoEndpoint, ecs, cluster);
  const operations: string[] = [];
  const runTasks: RunTaskCommandInput[] = [];

  /** The request moto can run: the task definition's bridge-mode EC2 copy, no network configuration. */
  async function standInRequest(input: RunTaskCommandInput): Promise<Record<string, unknown>> {
    const def = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: input.taskDefinition })))
      .taskDefinition;
    const copy = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${def?.family}-moto`,
        networkMode: "bridge",
        requiresCompatibilities: ["EC2"],
        containerDefinitions: def?.containerDefinitions,
      }),
    );
    const { networkConfiguration: _n, launchType: _l, ...rest } = input;
    return { ...rest, launchType: "EC2", taskDefinition: copy.taskDefinition?.taskDefinitionArn };
  }

  const server: Server = createServer(async (req, res) => {
    try {
      let data = await body(req);
      const operation =
        String(req.headers["x-amz-target"] ?? "")
          .split(".")
          .pop() ?? "";
      operations.push(operation);
      if (operation === "RunTask") {
        const input = JSON.parse(data.toString("utf8")) as RunTaskCommandInput;
        runTasks.push(input);
        data = Buffer.from(JSON.stringify(await standInRequest(input)));
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string" && !["host", "content-length", "connection"].includes(k)) headers[k] = v;
      }
      const answer = await fetch(`${motoEndpoint}${req.url}`, {
        method: req.method,
        headers,
        body: new Uint8Array(data),
      });
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (err) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ __type: "ServerException", message: (err as Error).message }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    operations,
    runTasks,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
