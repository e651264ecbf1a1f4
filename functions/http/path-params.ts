// Path parameters are checked before any use case sees them: a value that cannot be decoded, is not well-formed
// Unicode, holds control characters or is over-long is a 400 naming the parameter (never a 5xx from deeper down),
// and a name follows the same rule as the PUT that creates it.

import { z } from "zod";
import { JOB_NAME_PATTERN } from "../../shared/jobs/job-records.ts";
import { SCHEDULE_NAME_PATTERN } from "../../shared/triggers/schedules.ts";
import { SUBSCRIPTION_NAME_PATTERN } from "../../shared/triggers/subscriptions.ts";
import { isWellFormed } from "./unicode.ts";

interface ParamDoc {
  description: string;
  maxLength: number;
}

/** What each path parameter holds, for the document and the checks below. */
export const PATH_PARAM_DOCS: Record<string, ParamDoc> = {
  name: { description: "the resource's name (as given to its PUT)", maxLength: 100 },
  runId: { description: "run_…", maxLength: 200 },
  otherRunId: { description: "run_…", maxLength: 200 },
  jobRunId: { description: "jr_…", maxLength: 200 },
  keyId: { description: "key_…", maxLength: 200 },
  webhookId: { description: "wh_…", maxLength: 200 },
  id: { description: "dlv_…", maxLength: 200 },
  nodeId: { description: "the node's id in the definition", maxLength: 200 },
  definitionHash: { description: "sha256:<64 hex>", maxLength: 200 },
  sha256: { description: "sha256:<64 hex>, or the 64 hex digits alone", maxLength: 200 },
  path: { description: "the file's path relative to out/ (may contain '/')", maxLength: 1024 },
};

// Workflow names are job names' rule (lowercase letters, digits, '-').
const NAME_RULES: Array<{ prefix: string; pattern: RegExp; message: string }> = [
  {
    prefix: "/api/workflows/",
    pattern: JOB_NAME_PATTERN,
    message: "a workflow name is 1-63 lowercase letters, digits or '-'",
  },
  { prefix: "/api/jobs/", pattern: JOB_NAME_PATTERN, message: "a job name is 1-63 lowercase letters, digits or '-'" },
  {
    prefix: "/api/schedules/",
    pattern: SCHEDULE_NAME_PATTERN,
    message: "a schedule name is 1-100 letters, digits, '.', '_' or '-'",
  },
  {
    prefix: "/api/subscriptions/",
    pattern: SUBSCRIPTION_NAME_PATTERN,
    message: "a subscription name is 1-100 letters, digits, '.', '_' or '-'",
  },
];

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The schema of one path parameter of a route. */
function paramSchema(routePath: string, name: string): z.ZodType<string> {
  const max = PATH_PARAM_DOCS[name]?.maxLength ?? 200;
  let schema = z
    .string()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .refine(isWellFormed, "must be well-formed Unicode (no lone surrogates)")
    .refine((v) => !CONTROL.test(v), "must not hold control characters");
  const rule = name === "name" ? NAME_RULES.find((r) => routePath.startsWith(r.prefix)) : undefined;
  if (rule) schema = schema.refine((v) => rule.pattern.test(v), rule.message);
  return schema;
}

/** The zod object a route's path parameters are validated with. */
export function pathParamsSchema(routePath: string): z.ZodObject<Record<string, z.ZodType<string>>> {
  const names = [...routePath.matchAll(/\{([A-Za-z0-9]+)\+?\}/g)].map((m) => m[1] as string);
  return z.object(Object.fromEntries(names.map((n) => [n, paramSchema(routePath, n)])));
}
