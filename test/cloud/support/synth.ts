// The stack synthesized once per test file, without bundling the functions (the template is the same; only the code
// assets are placeholders): what cfn-lint checks and where the cloud suite takes its definitions and environments.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { PROJECT_ROOT } from "../../../infra/lambda-function.ts";
import { DASHBOARD_DIST, StepwiseStack } from "../../../infra/stepwise-stack.ts";

export type Json = Record<string, any>;

/** The synthesized stack and its CloudFormation template. */
export function synthesizeStack(): { stack: StepwiseStack; template: Json } {
  if (!existsSync(join(PROJECT_ROOT, DASHBOARD_DIST, "index.html"))) {
    execFileSync("npm", ["run", "build:dashboard"], { cwd: PROJECT_ROOT, stdio: "ignore" });
  }
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8"));
  // An empty bundling-stacks list is what `cdk synth --exclusively`-style runs use to skip asset bundling.
  const app = new App({ context: { ...cdkJson.context, "aws:cdk:bundling-stacks": [] } });
  const stack = new StepwiseStack(app, "Stepwise");
  const assembly = app.synth();
  return { stack, template: assembly.getStackByName(stack.stackName).template as Json };
}
