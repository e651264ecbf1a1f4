import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { PROJECT_ROOT } from "./lambda-function.ts";
import { StepwiseStack } from "./stepwise-stack.ts";

// Run by `cdk synth` (which sets CDK_OUTDIR) or directly with `node --import tsx infra/app.ts`, which writes the same
// cloud assembly to cdk.out without the CLI. The stack is environment-agnostic: one template for any account/region.
const app = new App({ outdir: process.env.CDK_OUTDIR ?? join(PROJECT_ROOT, "cdk.out") });
new StepwiseStack(app, "Stepwise", {
  description: "Stepwise: run orchestration with an auditable record of every run",
});
// cdk-nag runs as a validation plugin: an AwsSolutions finding not acknowledged with a reason fails the synthesis.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
