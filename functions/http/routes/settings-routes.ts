import { z } from "zod";
import { getRetention, putRetention } from "../../../shared/use-cases/retention.ts";
import { ok, parseWith, type RouteHandler } from "../request.ts";
import type { RouteKey } from "../route-specs.ts";

export const RetentionBody = z
  .object({
    days: z.number().int().describe("1 to 36500"),
    keepEvidence: z.boolean().optional().describe("default true"),
  })
  .strict();

/** Routes of the org's settings. */
export const routes: Partial<Record<RouteKey, RouteHandler>> = {
  "PUT /api/settings/retention": async (r) =>
    ok(await putRetention(r.deps, r.principal, parseWith(RetentionBody, r.body))),
  "GET /api/settings/retention": async (r) => ok(await getRetention(r.deps, r.principal.orgId)),
};
