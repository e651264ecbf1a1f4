import { describe, expect, it } from "vitest";
import { consoleLink, identityLabels } from "../../dashboard/src/evidence-links.ts";

describe("the node panel's evidence links", () => {
  it("links a container attempt that ran on ECS to its task, from the task ARN recorded as host", () => {
    const link = consoleLink({
      type: "container",
      image: "public.ecr.aws/docker/library/python:3.12",
      host: "arn:aws:ecs:eu-west-1:123456789012:task/stepwise-runs/0f1e2d3c4b5a69788796a5b4c3d2e1f0 (eu-west-1b)",
    });
    expect(link).toEqual({
      label: "ECS task",
      href: "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/stepwise-runs/tasks/0f1e2d3c4b5a69788796a5b4c3d2e1f0?region=eu-west-1",
    });
  });

  it("links a lambda attempt to its function's log group, escaped the way the console expects", () => {
    const link = consoleLink({
      type: "lambda",
      image: "arn:aws:lambda:us-east-1:123456789012:function:enrich-orders:7",
      host: "AWS Lambda us-east-1",
    });
    expect(link?.label).toBe("Function logs");
    expect(link?.href).toBe(
      "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fenrich-orders",
    );
  });

  it("links nothing for attempts that ran on a machine (embedded containers, local functions, processes)", () => {
    expect(consoleLink({ type: "container", image: "localhost/etl:1", host: "build-box" })).toBeNull();
    expect(consoleLink({ type: "lambda", image: "enrich", host: "build-box" })).toBeNull();
    expect(consoleLink({ type: "command", image: "/bin/sh", host: "arn:aws:ecs:eu-west-1:1:task/c/x" })).toBeNull();
  });

  it("names the identity facts by node type", () => {
    expect(identityLabels("container")).toEqual({ what: "Image", hash: "Digest" });
    expect(identityLabels("lambda")).toEqual({ what: "Function", hash: "Code hash" });
    expect(identityLabels("script")).toEqual({ what: "Runtime", hash: "Runtime hash" });
  });
});
