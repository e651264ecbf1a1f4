// The lane is a pure function of the definition: these tests give it definitions and check the lane it picks.
import { describe, expect, it } from "vitest";
import { parseDefinition } from "../../shared/domain/workflow.ts";
import { chooseLane, standardReason } from "../../shared/engine/lane.ts";

const def = (nodes: unknown[]) => parseDefinition({ name: "wf", nodes });
const cmd = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: "command", command: "true", ...extra });

describe("choosing the lane at trigger", () => {
  it("puts runs whose every node runs inside Advance on Express", () => {
    const diamond = def([
      cmd("a"),
      cmd("b", { needs: ["a"] }),
      cmd("c", { needs: ["a"] }),
      { id: "d", type: "script", runtime: "node", code: "export default () => ({})", needs: ["b", "c"] },
    ]);
    expect(chooseLane(diamond)).toBe("express");
  });

  it("keeps a short wait (slept inside the call) on Express, a longer one on Standard", () => {
    expect(chooseLane(def([{ id: "w", type: "wait", seconds: 2 }, cmd("a", { needs: ["w"] })]))).toBe("express");
    expect(chooseLane(def([{ id: "w", type: "wait", seconds: 2.5 }, cmd("a", { needs: ["w"] })]))).toBe("standard");
  });

  it("sends runs with a human step to Standard, as they wait on a task token", () => {
    expect(chooseLane(def([cmd("a"), { id: "ok", type: "approval", needs: ["a"] }]))).toBe("standard");
    const input = def([{ id: "otp", type: "input", fields: { code: { type: "string" } } }]);
    expect(chooseLane(input)).toBe("standard");
    expect(standardReason(input.nodes[0] as never)).toBe("'otp' is a input node");
  });

  it("sends a node that may outlive an Express execution (timeout past 5 minutes) to Standard", () => {
    expect(chooseLane(def([cmd("a", { timeoutSeconds: 300 })]))).toBe("express");
    expect(chooseLane(def([cmd("a", { timeoutSeconds: 301 })]))).toBe("standard");
  });

  it("treats a node type it does not know (a container) as Standard", () => {
    expect(standardReason({ id: "train", type: "container" } as never)).toBe("'train' is a container node");
  });
});
