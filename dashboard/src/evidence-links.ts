// How a task's "what ran" evidence is named per node type, and where it lives in the AWS console when it ran there.
import type { TaskRecord } from "./types.ts";

/** The labels of a task's identity facts: a container's image and digest, a function and its code hash, a runtime. */
export function identityLabels(type: TaskRecord["type"]): { what: string; hash: string } {
  if (type === "container") return { what: "Image", hash: "Digest" };
  if (type === "lambda") return { what: "Function", hash: "Code hash" };
  return { what: "Runtime", hash: "Runtime hash" };
}

const ECS_TASK =
  /^arn:(?<partition>aws[a-z-]*):ecs:(?<region>[a-z0-9-]+):\d{12}:task\/(?<cluster>[A-Za-z0-9_-]+)\/(?<id>[A-Za-z0-9]+)/;
const LAMBDA_FUNCTION =
  /^arn:(?<partition>aws[a-z-]*):lambda:(?<region>[a-z0-9-]+):\d{12}:function:(?<name>[A-Za-z0-9_-]+)/;

/** The console host of a partition's region (the China and GovCloud partitions have their own). */
function consoleHost(partition: string, region: string): string {
  if (partition === "aws-cn") return "console.amazonaws.cn";
  if (partition === "aws-us-gov") return "console.amazonaws-us-gov.com";
  return `${region}.console.aws.amazon.com`;
}

/**
 * A link to where the attempt ran in AWS: the ECS task of a container node (its host is the task ARN), the log
 * group of a lambda node's function (its image is the function ARN). Null for anything that ran on a local machine.
 */
export function consoleLink(task: Pick<TaskRecord, "type" | "host" | "image">): { label: string; href: string } | null {
  if (task.type === "container") {
    const m = ECS_TASK.exec(task.host ?? "")?.groups;
    if (!m) return null;
    const { partition = "aws", region = "", cluster = "", id = "" } = m;
    return {
      label: "ECS task",
      href: `https://${consoleHost(partition, region)}/ecs/v2/clusters/${cluster}/tasks/${id}?region=${region}`,
    };
  }
  if (task.type === "lambda") {
    const m = LAMBDA_FUNCTION.exec(task.image ?? "")?.groups;
    if (!m) return null;
    const { partition = "aws", region = "", name = "" } = m;
    const group = encodeURIComponent(encodeURIComponent(`/aws/lambda/${name}`)).replaceAll("%", "$");
    return {
      label: "Function logs",
      href: `https://${consoleHost(partition, region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${group}`,
    };
  }
  return null;
}
