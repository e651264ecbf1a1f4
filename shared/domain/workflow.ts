import { z } from "zod";
import { type ErrorDetail, ValidationError } from "../errors.ts";
import { hashJson } from "./hash.ts";

export const VALUE_TYPES = ["string", "number", "boolean", "json"] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

const nodeId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit",
  );
const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1-63 lowercase letters, digits or '-'");

export const ParameterSchema = z
  .object({
    type: z.enum(VALUE_TYPES),
    required: z.boolean().optional(),
    default: z.unknown().optional(),
    description: z.string().max(1000).optional(),
  })
  .strict();

const RetrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(10),
    // No defaults: the stored definition (and its hash) stays exactly what the user wrote.
    backoffSeconds: z.number().min(0).max(600).optional(),
  })
  .strict();

/**
 * The longest a script or command may run. A node starts only when its timeout fits what is left of the engine
 * call's budget (ADVANCE_BUDGET_SECONDS, 780 s in the cloud): this leaves a minute for a fresh call to get there, so
 * every valid node can start. Longer work belongs in container nodes.
 */
export const MAX_TASK_TIMEOUT_SECONDS = 720;
export const DEFAULT_TASK_TIMEOUT_SECONDS = 300;

const common = {
  id: nodeId,
  needs: z.array(nodeId).optional(),
  description: z.string().max(2000).optional(),
};
const runnable = {
  ...common,
  retry: RetrySchema.optional(),
  timeoutSeconds: z.number().int().min(1).max(MAX_TASK_TIMEOUT_SECONDS).optional(),
  inputs: z.array(z.string().min(1).max(1024)).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
};

export const ScriptNodeSchema = z
  .object({ ...runnable, type: z.literal("script"), runtime: z.literal("node"), code: z.string().min(1).max(200_000) })
  .strict();
export const CommandNodeSchema = z
  .object({ ...runnable, type: z.literal("command"), command: z.string().min(1).max(100_000) })
  .strict();
/** A container may run for up to 7 days: it runs outside the engine's call, which waits for it to stop. */
export const MAX_CONTAINER_TIMEOUT_SECONDS = 604_800;
/** A container without a timeout is stopped after a day. */
export const DEFAULT_CONTAINER_TIMEOUT_SECONDS = 86_400;

/** An OCI reference: `name[:tag]` or `name@sha256:<64 hex>`, with an optional registry host and path. */
const imageRef = z
  .string()
  .min(1)
  .max(512)
  .regex(
    /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/,
    "must be an image reference such as 'registry/name:tag' or 'name@sha256:<64 hex>'",
  );

export const ContainerNodeSchema = z
  .object({
    ...runnable,
    type: z.literal("container"),
    image: imageRef,
    command: z.array(z.string().max(100_000)).min(1).max(1000).optional(),
    resources: z
      .object({
        // Fargate's CPU units (1024 = one vCPU) and memory; the task size is the smallest that fits both.
        cpu: z.number().int().min(128).max(16_384).optional(),
        memoryMiB: z.number().int().min(128).max(122_880).optional(),
      })
      .strict()
      .optional(),
    timeoutSeconds: z.number().int().min(1).max(MAX_CONTAINER_TIMEOUT_SECONDS).optional(),
  })
  .strict();

/** A Lambda function by name, `name:alias|version`, or ARN (optionally qualified). */
const functionRef = z
  .string()
  .min(1)
  .max(256)
  .regex(
    /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$/,
    "must be a function name, 'name:alias' or a Lambda function ARN",
  );

export const LambdaNodeSchema = z
  .object({
    ...common,
    type: z.literal("lambda"),
    function: functionRef,
    payload: z.unknown().optional(),
    retry: RetrySchema.optional(),
    timeoutSeconds: z.number().int().min(1).max(MAX_TASK_TIMEOUT_SECONDS).optional(),
  })
  .strict();

export const WaitNodeSchema = z
  .object({
    ...common,
    type: z.literal("wait"),
    seconds: z
      .number()
      .min(0)
      .max(365 * 86400),
  })
  .strict();

/** Human steps may wait up to a year; the local interpreter clamps timers it cannot hold. */
const humanTimeout = z
  .number()
  .int()
  .min(1)
  .max(365 * 86400);
export const ApprovalNodeSchema = z
  .object({
    ...common,
    type: z.literal("approval"),
    approvers: z
      .object({
        count: z.number().int().min(1).max(20).optional(),
        roles: z
          .array(z.enum(["admin", "operator", "approver", "viewer"]))
          .min(1)
          .optional(),
      })
      .strict()
      .optional(),
    allowSelfApproval: z.boolean().optional(),
    timeoutSeconds: humanTimeout.optional(),
    onTimeout: z.enum(["reject", "approve"]).optional(),
  })
  .strict();

export const InputFieldSchema = z
  .object({
    type: z.enum(["string", "number", "boolean", "enum"]),
    values: z.array(z.string()).min(1).optional(),
    required: z.boolean().optional(),
    pattern: z.string().max(500).optional(),
    secret: z.boolean().optional(),
    description: z.string().max(1000).optional(),
  })
  .strict();
export const InputNodeSchema = z
  .object({
    ...common,
    type: z.literal("input"),
    fields: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), InputFieldSchema),
    // Who may answer: operator, approver and admin by default; this narrows it (a viewer never answers).
    roles: z
      .array(z.enum(["admin", "operator", "approver"]))
      .min(1)
      .optional(),
    timeoutSeconds: humanTimeout.optional(),
  })
  .strict();

export const NodeSchema = z.discriminatedUnion("type", [
  ScriptNodeSchema,
  CommandNodeSchema,
  ContainerNodeSchema,
  LambdaNodeSchema,
  ApprovalNodeSchema,
  InputNodeSchema,
  WaitNodeSchema,
]);

export const WorkflowDefinitionSchema = z
  .object({
    name,
    description: z.string().max(2000).optional(),
    parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), ParameterSchema).optional(),
    // How many runs of this workflow may be past `queued` at once; the rest wait in trigger order.
    concurrency: z
      .object({ limit: z.number().int().min(1).max(1000) })
      .strict()
      .optional(),
    nodes: z.array(NodeSchema).min(1).max(200),
  })
  .strict();

export type WorkflowDefinition = z.infer<typeof WorkflowDefinitionSchema>;
export type WorkflowNode = z.infer<typeof NodeSchema>;
export type NodeType = WorkflowNode["type"];
export type ApprovalNode = z.infer<typeof ApprovalNodeSchema>;
export type ContainerNode = z.infer<typeof ContainerNodeSchema>;
export type LambdaNode = z.infer<typeof LambdaNodeSchema>;
export type InputNode = z.infer<typeof InputNodeSchema>;
export type HumanNode = ApprovalNode | InputNode;
export const isHuman = (n: WorkflowNode): n is HumanNode => n.type === "approval" || n.type === "input";

/** Whether a run of `def` can hold secrets: only an input node's secret fields make them. */
export const keepsSecrets = (def: WorkflowDefinition): boolean =>
  def.nodes.some((n) => n.type === "input" && Object.values(n.fields).some((f) => f.secret === true));

/** Converts zod issues into contract details, naming the node an issue is about. */
export function zodDetails(error: z.ZodError, root?: unknown): ErrorDetail[] {
  // An unknown field is reported at the field itself, one detail per field, so that the path names it.
  const issues = error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: [...issue.path, key], message: "unknown field" }))
      : [{ path: issue.path, message: issue.message }],
  );
  return issues.map((issue) => {
    const path = issue.path.map(String);
    let where = path.join(".");
    if (path[0] === "nodes" && path.length > 1 && root && typeof root === "object") {
      const nodes = (root as { nodes?: unknown }).nodes;
      const node = Array.isArray(nodes) ? nodes[Number(path[1])] : undefined;
      const id = node && typeof node === "object" ? (node as { id?: unknown }).id : undefined;
      if (typeof id === "string") where = `node '${id}'${path.length > 2 ? `: ${path.slice(2).join(".")}` : ""}`;
    }
    return { path: path.join("."), message: where ? `${where}: ${issue.message}` : issue.message };
  });
}

/** Parses and validates a definition, including the DAG; throws ValidationError naming the node. */
export function parseDefinition(input: unknown, expectedName?: string): WorkflowDefinition {
  const parsed = WorkflowDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    const details = zodDetails(parsed.error, input);
    throw new ValidationError(details[0]?.message ?? "invalid workflow definition", details);
  }
  const def = parsed.data;
  if (expectedName !== undefined && def.name !== expectedName) {
    throw new ValidationError(`definition name '${def.name}' does not match the route name '${expectedName}'`, [
      { path: "name", message: "must equal the name in the URL" },
    ]);
  }
  validateDag(def);
  for (const [key, p] of Object.entries(def.parameters ?? {})) {
    if (p.default !== undefined && !matchesType(p.type, p.default)) {
      throw new ValidationError(`parameter '${key}': default is not a ${p.type}`, [
        { path: `parameters.${key}.default`, message: `must be a ${p.type}` },
      ]);
    }
  }
  for (const node of def.nodes) {
    if (node.type === "input") {
      for (const [field, spec] of Object.entries(node.fields)) {
        if (spec.type === "enum" && !spec.values) {
          throw new ValidationError(`node '${node.id}': field '${field}' of type enum needs values`);
        }
        if (spec.pattern !== undefined) {
          try {
            new RegExp(spec.pattern);
          } catch {
            throw new ValidationError(`node '${node.id}': field '${field}' has an invalid pattern`);
          }
        }
      }
    }
  }
  return def;
}

/** Rejects duplicate ids, unknown needs and cycles, naming the node. */
export function validateDag(def: WorkflowDefinition): void {
  const ids = new Set<string>();
  for (const node of def.nodes) {
    if (ids.has(node.id))
      throw new ValidationError(`node '${node.id}': duplicate id`, [
        { path: "nodes", message: `duplicate id '${node.id}'` },
      ]);
    ids.add(node.id);
  }
  for (const node of def.nodes) {
    for (const need of node.needs ?? []) {
      if (!ids.has(need)) {
        throw new ValidationError(`node '${node.id}': needs unknown node '${need}'`, [
          { path: `nodes.${node.id}.needs`, message: `unknown node '${need}'` },
        ]);
      }
      if (need === node.id) throw new ValidationError(`node '${node.id}': needs itself (cycle)`);
    }
  }
  // Kahn's algorithm: whatever is left has a cycle through it.
  const indegree = new Map(def.nodes.map((n) => [n.id, (n.needs ?? []).length]));
  const dependents = new Map<string, string[]>();
  for (const n of def.nodes)
    for (const need of n.needs ?? []) dependents.set(need, [...(dependents.get(need) ?? []), n.id]);
  const queue = def.nodes.filter((n) => (n.needs ?? []).length === 0).map((n) => n.id);
  let seen = 0;
  while (queue.length) {
    const id = queue.shift() as string;
    seen++;
    for (const d of dependents.get(id) ?? []) {
      const left = (indegree.get(d) ?? 0) - 1;
      indegree.set(d, left);
      if (left === 0) queue.push(d);
    }
  }
  if (seen !== def.nodes.length) {
    const inCycle = def.nodes.filter((n) => (indegree.get(n.id) ?? 0) > 0).map((n) => n.id);
    throw new ValidationError(`node '${inCycle[0]}': cycle through ${inCycle.map((i) => `'${i}'`).join(", ")}`, [
      { path: "nodes", message: `cycle through ${inCycle.join(", ")}` },
    ]);
  }
}

/** sha256 of the RFC 8785 canonical JSON of the definition. */
export const definitionHash = (def: WorkflowDefinition): string => hashJson(def);

export function typeOfValue(value: unknown): ValueType {
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  return "json";
}

export function matchesType(type: ValueType, value: unknown): boolean {
  if (type === "json") return value !== undefined;
  if (type === "number") return typeof value === "number" && Number.isFinite(value);
  return typeof value === type;
}

/** Applies defaults and checks required and typed parameters; throws ValidationError naming each bad one. */
export function resolveParameters(def: WorkflowDefinition, input: unknown): Record<string, unknown> {
  if (input !== undefined && (input === null || typeof input !== "object" || Array.isArray(input))) {
    throw new ValidationError("parameters must be an object", [{ path: "parameters", message: "must be an object" }]);
  }
  const given = (input ?? {}) as Record<string, unknown>;
  const spec = def.parameters ?? {};
  const details: ErrorDetail[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!(key in spec)) details.push({ path: `parameters.${key}`, message: `unknown parameter '${key}'` });
  }
  for (const [key, p] of Object.entries(spec)) {
    const value = given[key];
    if (value === undefined) {
      if (p.default !== undefined) out[key] = p.default;
      else if (p.required) details.push({ path: `parameters.${key}`, message: `missing required parameter '${key}'` });
      continue;
    }
    if (!matchesType(p.type, value)) {
      details.push({ path: `parameters.${key}`, message: `parameter '${key}' must be a ${p.type}` });
      continue;
    }
    out[key] = value;
  }
  if (details.length) throw new ValidationError(details.map((d) => d.message).join("; "), details);
  return out;
}
