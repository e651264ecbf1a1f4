// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${params.x} is a Stepwise reference, not a JS template.
import { describe, expect, it } from "vitest";
import { MAX_CONTAINER_TIMEOUT_SECONDS, parseDefinition } from "../../shared/domain/workflow.ts";
import { ValidationError } from "../../shared/errors.ts";

const wf = (...nodes: unknown[]) => ({ name: "wf", nodes });

/** The message a definition is rejected with (fails the test when it parses). */
function rejection(input: unknown): string {
  try {
    parseDefinition(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).message;
  }
  throw new Error("the definition was accepted");
}

describe("container and lambda nodes", () => {
  it("accepts the contract's container and lambda examples", () => {
    const def = parseDefinition(
      wf(
        {
          id: "train",
          type: "container",
          image: "registry.example.com:5000/team/name:tag",
          command: ["sh", "-c", "echo hi > out/x"],
          env: { A: "1" },
          inputs: ["data.csv"],
          resources: { cpu: 1024, memoryMiB: 2048 },
          timeoutSeconds: MAX_CONTAINER_TIMEOUT_SECONDS,
          retry: { maxAttempts: 2 },
        },
        { id: "pinned", type: "container", image: `busybox@sha256:${"a".repeat(64)}` },
        { id: "enrich", type: "lambda", function: "enrich-fn", payload: { day: "${params.day}" }, needs: ["train"] },
        { id: "alias", type: "lambda", function: "enrich-fn:live" },
        { id: "arn", type: "lambda", function: "arn:aws:lambda:eu-west-1:123456789012:function:enrich-fn:3" },
      ),
    );
    expect(def.nodes.map((n) => n.type)).toEqual(["container", "container", "lambda", "lambda", "lambda"]);
  });

  it("rejects a container timeout over 7 days, naming the node", () => {
    const msg = rejection(
      wf({ id: "long", type: "container", image: "busybox", timeoutSeconds: MAX_CONTAINER_TIMEOUT_SECONDS + 1 }),
    );
    expect(msg).toMatch(/^node 'long': timeoutSeconds: /);
  });

  it("keeps the short limit for command nodes (they run inside the engine call)", () => {
    expect(rejection(wf({ id: "c", type: "command", command: "true", timeoutSeconds: 3600 }))).toMatch(
      /^node 'c': timeoutSeconds/,
    );
  });

  it("rejects a bad image reference, a string command and unknown fields, naming the node", () => {
    expect(rejection(wf({ id: "img", type: "container", image: "Not An Image" }))).toMatch(
      /^node 'img': image: must be an image reference/,
    );
    expect(rejection(wf({ id: "cmd", type: "container", image: "busybox", command: "echo hi" }))).toMatch(
      /^node 'cmd': command: /,
    );
    expect(rejection(wf({ id: "res", type: "container", image: "busybox", resources: { gpu: 1 } }))).toBe(
      "node 'res': resources.gpu: unknown field",
    );
    expect(rejection(wf({ id: "mem", type: "container", image: "busybox", resources: { memoryMiB: 64 } }))).toMatch(
      /^node 'mem': resources.memoryMiB: /,
    );
  });

  it("rejects a bad function reference and container fields on a lambda node, naming the node", () => {
    expect(rejection(wf({ id: "fn", type: "lambda", function: "has spaces" }))).toMatch(
      /^node 'fn': function: must be a function name/,
    );
    expect(rejection(wf({ id: "fn2", type: "lambda", function: "f", image: "busybox" }))).toBe(
      "node 'fn2': image: unknown field",
    );
    expect(rejection(wf({ id: "fn3", type: "lambda" }))).toMatch(/^node 'fn3': function: /);
  });
});
