// Request and response schemas of the human-step routes: decisions, inputs and the approvals inbox.

import { z } from "zod";
import { TASK_STATUSES } from "../../../shared/domain/records.ts";
import { InputFieldSchema } from "../../../shared/domain/workflow.ts";
import type { decide, listApprovals, submitInput } from "../../../shared/human-steps/human-steps.ts";
import { WorkflowRef } from "./run-schemas.ts";
import { answers, hash, iso, named, type Out, page, role } from "./schema-kit.ts";

export const DecisionBody = named(
  "DecisionRequest",
  z.object({ decision: z.enum(["approve", "reject"]), comment: z.string().max(2000).optional() }).strict(),
);
export const InputBody = named(
  "InputRequest",
  z.object({ values: z.record(z.string(), z.unknown()).describe("a value for each field of the input node") }).strict(),
);

export const DecisionResult = answers<Out<typeof decide>>()(
  "DecisionResult",
  z.object({
    runId: z.string(),
    nodeId: z.string(),
    status: z.enum(TASK_STATUSES).describe("the step's status after this decision"),
    decision: z.enum(["approve", "reject"]),
    approvals: z.object({ required: z.number(), received: z.number() }),
    contextHash: hash().nullable(),
  }),
);
export const InputResult = answers<Out<typeof submitInput>>()(
  "InputResult",
  z.object({
    runId: z.string(),
    nodeId: z.string(),
    status: z.literal("succeeded"),
    context: z.array(z.string()).describe("the context keys written (values are not echoed: some may be secret)"),
  }),
);
const waiting = {
  runId: z.string(),
  nodeId: z.string(),
  workflow: WorkflowRef,
  description: z.string().nullable(),
  since: iso().nullable().optional(),
  timeoutAt: iso().nullable(),
  triggeredBy: z.string(),
  whoMayAnswer: z.array(role),
};
type WaitingStep = Out<typeof listApprovals>["items"][number];
// listApprovals types `type` as either kind on both item shapes; each shape only ever carries its own kind.
type WaitingSteps = {
  items: Array<
    WaitingStep extends infer W
      ? W extends { allowSelfApproval: boolean }
        ? Omit<W, "type"> & { type: "approval" }
        : Omit<W, "type"> & { type: "input" }
      : never
  >;
  nextCursor: string | null;
};
export const ApprovalInbox = answers<WaitingSteps>()(
  "HumanStepList",
  page(
    z.union([
      z.object({
        ...waiting,
        type: z.literal("approval"),
        allowSelfApproval: z.boolean(),
        onTimeout: z.enum(["reject", "approve"]),
        approvals: z.object({
          required: z.number(),
          received: z.number(),
          decisions: z.array(
            z.object({
              by: z.string(),
              decision: z.enum(["approve", "reject", "timeout"]),
              comment: z.string().nullable(),
              at: iso(),
            }),
          ),
        }),
      }),
      z.object({ ...waiting, type: z.literal("input"), fields: z.record(z.string(), InputFieldSchema) }),
    ]),
  ),
);
