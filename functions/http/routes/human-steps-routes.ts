import { z } from "zod";
import { decide, listApprovals, submitInput } from "../../../shared/human-steps/human-steps.ts";
import { defineRoute, json, ok } from "../route.ts";
import { ApprovalInbox, DecisionBody, DecisionResult, InputBody, InputResult } from "../schemas/human-steps-schemas.ts";

/** Human steps: decisions, inputs and the approvals inbox. */
export const humanStepRoutes = [
  defineRoute({
    method: "POST",
    path: "/api/runs/{runId}/approvals/{nodeId}",
    access: "approver",
    summary: "Approve or reject an approval step",
    body: DecisionBody,
    responses: { 200: json(DecisionResult, "The decision is recorded") },
    errors: {
      403: "the key's role may not decide this step, or the person who started the run may not approve it",
      404: "no such run, or no such node in it",
      409: "the step is not awaiting approval (or timed out), the node is not an approval, or this person already decided",
    },
    handler: async (r) => ok(await decide(r.deps, r.principal, r.params.runId, r.params.nodeId, r.body)),
  }),
  defineRoute({
    method: "POST",
    path: "/api/runs/{runId}/inputs/{nodeId}",
    access: "viewer",
    summary: "Answer an input step",
    body: InputBody,
    responses: { 200: json(InputResult, "The values are recorded (secret ones are never shown again)") },
    errors: {
      400: "values that do not match the node's fields (the run keeps waiting)",
      403: "viewers may not answer input steps",
      404: "no such run, or no such node in it",
      409: "the step is not awaiting input (or timed out), or the node is not an input",
    },
    handler: async (r) => ok(await submitInput(r.deps, r.principal, r.params.runId, r.params.nodeId, r.body.values)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/approvals",
    access: "viewer",
    summary: "The org's human steps waiting for someone",
    paged: true,
    query: z.object({ status: z.literal("pending").optional().describe("only pending is supported") }),
    responses: { 200: json(ApprovalInbox, "Waiting approval and input steps, newest first") },
    handler: async (r) => ok(await listApprovals(r.deps, r.principal, r.query.status, r.page)),
  }),
] as const;
