import { z } from "zod";
import { decide, listApprovals, submitInput } from "../../../shared/human-steps/human-steps.ts";
import { ok, pageOf, parseWith, type RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";

export const DecisionBody = z
  .object({ decision: z.enum(["approve", "reject"]), comment: z.string().max(2000).optional() })
  .strict();
export const InputBody = z
  .object({ values: z.record(z.string(), z.unknown()).describe("a value for each field of the input node") })
  .strict();

/** Routes of the human-steps area: decisions, inputs and the approvals inbox. */
export const routes: Partial<Record<RouteKey, RouteHandler>> = {
  "POST /api/runs/{runId}/approvals/{nodeId}": async (r) =>
    ok(
      await decide(
        r.deps,
        r.principal,
        r.path.runId as string,
        r.path.nodeId as string,
        parseWith(DecisionBody, r.body),
      ),
    ),
  "POST /api/runs/{runId}/inputs/{nodeId}": async (r) =>
    ok(
      await submitInput(
        r.deps,
        r.principal,
        r.path.runId as string,
        r.path.nodeId as string,
        parseWith(InputBody, r.body).values,
      ),
    ),
  "GET /api/approvals": async (r) => ok(await listApprovals(r.deps, r.principal, r.query.status, pageOf(r.query))),
};
