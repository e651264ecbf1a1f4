// cfn-lint (AWS's CloudFormation linter) on the synthesized template, and on each state-machine definition rendered
// into a small template as a Definition object (how cfn-lint applies its Step Functions schema). Errors fail the
// build; exit code 4 means warnings only (CDK's W3005, a redundant DependsOn, is harmless).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildJobRunStateMachine } from "../../shared/jobs/job-run-state-machine.ts";
import { buildRunStateMachine, toExpressRunStateMachine } from "../../shared/state-machine/run-state-machine.ts";
import { type Json, synthesizeStack } from "./support/synth.ts";
import { requireTool } from "./support/tools.ts";

const cfnLint = requireTool("cfn-lint");
// cfn-lint loads its schemas for every template: seconds when idle, minutes on a loaded CI machine.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

/** cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it failed to run. */
const ERRORS = 2;

let dir: string;

function lint(name: string, template: Json): { code: number; output: string } {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(template, null, 1));
  const res = spawnSync(cfnLint as string, ["--format", "parseable", file], { encoding: "utf8", timeout: 280_000 });
  return { code: res.status ?? 1, output: `${res.stdout}${res.stderr}` };
}

/** A definition in a template of its own, with the functions' ARNs as a deployment would have them. */
function machineTemplate(definition: Json, type = "STANDARD"): Json {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Resources: {
      Machine: {
        Type: "AWS::StepFunctions::StateMachine",
        Properties: {
          StateMachineType: type,
          RoleArn: "arn:aws:iam::123456789012:role/stepwise-machine",
          Definition: definition,
        },
      },
    },
  };
}

const fnArn = (name: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${name}`;

describe.skipIf(!cfnLint)("cfn-lint", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "stepwise-cfn-lint-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds no error in the synthesized template", () => {
    const { template } = synthesizeStack();
    const { code, output } = lint("stack", template);
    expect(code & ERRORS, output).toBe(0);
    expect(code === 0 || code === 4, output).toBe(true);
    // Warnings only of the kind CDK produces on every function and machine role.
    const warnings = output.split("\n").filter((l) => /:W\d{4}:/.test(l));
    expect(
      warnings.filter((l) => !l.includes(":W3005:")),
      output,
    ).toEqual([]);
  });

  it("finds no error in the run and job-run state machines, and the run machine's Express twin", () => {
    const run = buildRunStateMachine({
      advance: fnArn("advance-run"),
      awaitHuman: fnArn("await-human"),
      recordFailure: fnArn("record-failure"),
    });
    const job = buildJobRunStateMachine({ runNext: fnArn("run-next"), recordFailure: fnArn("record-job-failure") });
    for (const [name, definition, type] of [
      ["run-machine", run, "STANDARD"],
      ["run-express-machine", toExpressRunStateMachine(run), "EXPRESS"],
      ["job-machine", job, "STANDARD"],
    ] as const) {
      const { code, output } = lint(name, machineTemplate(definition, type));
      expect(code, `${name}: ${output}`).toBe(0);
    }
  });

  it("reports an error in a broken definition (the check is live)", () => {
    const broken = buildRunStateMachine({ advance: "a", awaitHuman: "b", recordFailure: "c" }) as Json;
    broken.States.Route.Choices[0].Next = "NoSuchState";
    broken.States.Wait.Type = "Sleep";
    const { code, output } = lint("broken", machineTemplate(broken));
    expect(code & ERRORS, output).toBe(ERRORS);
  });
});
