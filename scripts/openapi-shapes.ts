// The zod schemas the OpenAPI document is generated from: request bodies (the routes' own schemas where they are
// exported) and response shapes, each response shape bound at compile time to the type its use case returns.

import { z } from "zod";
import {
  CancelBody as CancelBodySchema,
  KeyBody as KeyBodySchema,
  OrgBody as OrgBodySchema,
  RestartBody as RestartBodySchema,
  RunBody as RunBodySchema,
  RunQuery as RunQuerySchema,
  TriggerBody as TriggerBodySchema,
} from "../functions/http/routes/core-routes.ts";
import { FileQuery as FileQuerySchema } from "../functions/http/routes/evidence-routes.ts";
import {
  DecisionBody as DecisionBodySchema,
  InputBody as InputBodySchema,
} from "../functions/http/routes/human-steps-routes.ts";
import { RetentionBody as RetentionBodySchema } from "../functions/http/routes/settings-routes.ts";
import type { Principal, Role } from "../shared/domain/records.ts";
import { ROLES, RUN_STATUSES, TASK_STATUSES } from "../shared/domain/records.ts";
import { InputFieldSchema, VALUE_TYPES, WorkflowDefinitionSchema } from "../shared/domain/workflow.ts";
import type { compareTwoRuns, listRunFiles, verifyRun } from "../shared/evidence/evidence-service.ts";
import type { fileLineage, LineageGraph } from "../shared/evidence/lineage.ts";
import type { decide, listApprovals, submitInput } from "../shared/human-steps/human-steps.ts";
import {
  JOB_RUN_STATUSES,
  JobBodySchema,
  JobRunBodySchema,
  JobRunCancelBodySchema,
  JobRunQuerySchema,
} from "../shared/jobs/job-records.ts";
import type { createJobRun, getJobRun, jobView, listJobRuns, listJobs, putJob, showJob } from "../shared/jobs/jobs.ts";
import type { restartRun } from "../shared/runs/restart.ts";
import { OVERLAP_POLICIES, ScheduleBodySchema } from "../shared/triggers/schedules.ts";
import {
  type listDeliveries,
  type listSubscriptions,
  type putSubscription,
  type redeliver,
  SubscriptionBodySchema,
} from "../shared/triggers/subscriptions.ts";
import {
  type createWebhook,
  type listWebhooks,
  type receiveWebhook,
  WebhookBodySchema,
} from "../shared/triggers/webhooks.ts";
import type { createKey, createOrg, listKeys } from "../shared/use-cases/auth.ts";
import type { RetentionSettings } from "../shared/use-cases/retention.ts";
import type { auditTrail, cancelRun, listRuns, listTasks, runView, triggerRun } from "../shared/use-cases/runs.ts";
import type { listVersions, listWorkflows, putWorkflow, workflowView } from "../shared/use-cases/workflows.ts";

/** The named schemas of the document (`#/components/schemas/{id}`). */
export const components = z.registry<{ id: string }>();

/** Registers a schema as a named component; operations then refer to it with `$ref`. */
const named = <S extends z.ZodType>(id: string, schema: S): S => {
  components.add(schema, { id });
  return schema;
};

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Every property path of a type (`.a`, `.a.b`, `.items[].c`), optional ones included. */
type Paths<T, P extends string = ""> = T extends readonly (infer E)[]
  ? Paths<E, `${P}[]`>
  : T extends object
    ? { [K in keyof T & string]-?: `${P}.${K}` | Paths<NonNullable<T[K]>, `${P}.${K}`> }[keyof T & string]
    : never;
type Out<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;
type UndefinedKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
/** A type as its JSON reads: a property that may be undefined may be absent. */
type AsJson<T> = T extends readonly (infer E)[]
  ? AsJson<E>[]
  : T extends object
    ? { [K in Exclude<keyof T, UndefinedKeys<T>>]: AsJson<T[K]> } & { [K in UndefinedKeys<T>]?: AsJson<T[K]> }
    : T;

/**
 * A response schema bound to the type the handler answers with: when the two differ (a field added, removed or
 * retyped on one side only), the call lacks its `mismatch` argument and tsc fails here.
 */
const answers =
  <T>() =>
  <S extends z.ZodType>(
    id: string,
    schema: S,
    ..._mismatch: [Same<AsJson<z.output<S>>, AsJson<T>>, Same<Paths<z.output<S>>, Paths<T>>] extends [true, true]
      ? []
      : [mismatch: "the schema differs from the response type"]
  ): S =>
    components.has(schema) ? schema : named(id, schema);

const iso = () => z.string().describe("UTC ISO 8601 with microseconds");
const hash = () => z.string().describe("sha256:<64 hex>");
const nextCursor = z.string().nullable().describe("pass as ?cursor= for the next page; null on the last page");
const page = <S extends z.ZodType>(item: S) => z.object({ items: z.array(item), nextCursor });
const role = z.enum(ROLES as [Role, ...Role[]]);

// ---- Errors -------------------------------------------------------------------------------------------------------

export const ErrorSchema = named(
  "Error",
  z.object({
    error: z.object({
      code: z.enum([
        "validation_failed",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "payload_too_large",
        "unsupported_media_type",
        "rate_limited",
        "internal",
      ]),
      message: z.string(),
      details: z
        .array(z.object({ path: z.string().optional(), message: z.string() }))
        .optional()
        .describe("one entry per bad field (validation_failed)"),
    }),
  }),
);

// ---- Request bodies -----------------------------------------------------------------------------------------------
// The routes' own schemas: what is documented is what is parsed.

export const TriggerBody = named("TriggerRequest", TriggerBodySchema);
export const RunBody = named("RunRequest", RunBodySchema);
export const CancelBody = named("CancelRequest", CancelBodySchema);
export const KeyBody = named("KeyRequest", KeyBodySchema);
export const OrgBody = named("OrgRequest", OrgBodySchema);
export const RunQuery = RunQuerySchema.omit({ limit: true, cursor: true });
export const DecisionBody = named("DecisionRequest", DecisionBodySchema);
export const InputBody = named("InputRequest", InputBodySchema);
export const RetentionBody = named("RetentionRequest", RetentionBodySchema);
export const FileQuery = FileQuerySchema;

// Exported by their areas.
export const WorkflowBody = named("WorkflowDefinition", WorkflowDefinitionSchema);
export const JobBody = named(
  "JobRequest",
  JobBodySchema.extend({ name: z.string().optional().describe("optional; must equal the name in the path") }),
);
export const JobRunBody = named("JobRunRequest", JobRunBodySchema);
export const JobRunCancelBody = named("JobRunCancelRequest", JobRunCancelBodySchema);
export const JobRunQuery = JobRunQuerySchema.omit({ limit: true, cursor: true });
export const ScheduleBody = named("ScheduleRequest", ScheduleBodySchema);
export const SubscriptionBody = named("SubscriptionRequest", SubscriptionBodySchema);
export const WebhookBody = named("WebhookRequest", WebhookBodySchema);
export const HookBody = z
  .record(z.string(), z.unknown())
  .describe("the JSON object of the workflow's parameters (may be empty)");

// ---- Responses: access, settings ----------------------------------------------------------------------------------

export const Health = named("Health", z.object({ status: z.literal("ok"), engineVersion: z.string() }));
export const Whoami = answers<Principal>()(
  "Whoami",
  z.object({
    orgId: z.string(),
    keyId: z.string(),
    role,
    userId: z.string().describe("the key's name: the person it acts for"),
    platform: z.boolean().describe("true for the platform (bootstrap) key"),
  }),
);
export const OrgCreated = answers<Out<typeof createOrg>>()(
  "OrgCreated",
  z.object({ orgId: z.string(), key: z.string().describe("an admin key of the new org, shown once") }),
);
export const KeyCreated = answers<Out<typeof createKey>>()(
  "KeyCreated",
  z.object({ keyId: z.string(), key: z.string().describe("the key, shown once"), name: z.string(), role }),
);
const Key = named(
  "Key",
  z.object({
    keyId: z.string(),
    orgId: z.string(),
    name: z.string(),
    role,
    createdAt: iso(),
    createdBy: z.string(),
    platform: z.boolean().optional(),
  }),
);
export const KeyList = answers<Out<typeof listKeys>>()("KeyList", page(Key));
export const Retention = answers<RetentionSettings>()(
  "RetentionSettings",
  z.object({
    days: z.number().nullable().describe("null: nothing is deleted (the default)"),
    keepEvidence: z.boolean(),
    updatedAt: iso().nullable(),
    updatedBy: z.string().nullable(),
  }),
);

// ---- Responses: workflows and runs --------------------------------------------------------------------------------

const WorkflowRef = named("WorkflowRef", z.object({ name: z.string(), version: z.number(), definitionHash: hash() }));
export const WorkflowPut = answers<Out<typeof putWorkflow>["body"]>()("WorkflowRef", WorkflowRef);
export const WorkflowList = answers<Out<typeof listWorkflows>>()(
  "WorkflowList",
  page(
    z.object({
      name: z.string(),
      version: z.number(),
      definitionHash: hash(),
      description: z.string().nullable().describe("the definition's description"),
      createdAt: iso(),
      archived: z.boolean().describe("whether the listed workflow is archived (only with `?archived=true`)"),
    }),
  ),
);
export const WorkflowVersion = answers<ReturnType<typeof workflowView>>()(
  "WorkflowVersion",
  z.object({
    name: z.string(),
    version: z.number(),
    definitionHash: hash(),
    definition: WorkflowDefinitionSchema,
    createdAt: iso(),
    createdBy: z.string(),
    archived: z
      .boolean()
      .optional()
      .describe("GET /api/workflows/{name}: whether the workflow is archived (DELETE archives it, PUT restores it)"),
  }),
);
export const WorkflowVersionList = answers<Out<typeof listVersions>>()("WorkflowVersionList", page(WorkflowVersion));

export const RestartBody = named("RestartBody", RestartBodySchema);
export const RestartAccepted = answers<Out<typeof restartRun>>()(
  "RestartAccepted",
  z.object({
    runId: z.string(),
    restartOf: z.string(),
    status: z.literal("queued"),
    rerun: z.array(z.string()).describe("beyond the contract: the nodes that run again, in definition order"),
    reused: z.array(z.string()).describe("beyond the contract: the nodes carried over without running"),
  }),
);
export const RunAccepted = answers<Out<typeof triggerRun>>()(
  "RunAccepted",
  z.object({ runId: z.string(), status: z.literal("queued"), workflow: WorkflowRef }),
);
const Trigger = named(
  "Trigger",
  z
    .looseObject({
      type: z.enum(["manual", "schedule", "webhook", "job", "rerun", "restart"]),
      userId: z.string().optional(),
    })
    .describe("how the run started; schedule, webhook and job triggers name their source (e.g. webhookId)"),
);
const RunError = named("RunError", z.object({ code: z.string(), message: z.string(), nodeId: z.string().optional() }));
const valueType = z.enum(VALUE_TYPES);
export const RunView = answers<ReturnType<typeof runView>>()(
  "Run",
  z.object({
    runId: z.string(),
    orgId: z.string(),
    workflow: WorkflowRef,
    engineVersion: z.string(),
    status: z.enum(RUN_STATUSES),
    currentStateName: z.string().nullable(),
    trigger: Trigger,
    createdBy: z.string(),
    jobRunId: z.string().nullable(),
    rerunOf: z.string().nullable(),
    restartOf: z.string().nullable().describe("the run this one restarted (POST /api/runs/{runId}/restart)"),
    queuedReason: z
      .string()
      .nullable()
      .describe("why a queued run has not started: `concurrency_limit` while it waits for a slot"),
    parameters: z.record(z.string(), z.unknown()),
    context: z
      .record(z.string(), z.object({ type: valueType, value: z.unknown(), writtenBy: z.string() }))
      .describe("beyond the contract: each entry also names the node that wrote it (`writtenBy`)"),
    createdAt: iso(),
    startedAt: iso().nullable(),
    updatedAt: iso(),
    completedAt: iso().nullable(),
    error: RunError.nullable(),
    noActionReason: z.string().nullable(),
    cancelReason: z
      .string()
      .nullable()
      .describe("beyond the contract: the reason given with the cancel request (POST …/cancel), if any"),
    cancelledBy: z.string().nullable().describe("beyond the contract: who asked to cancel the run"),
    root: hash().nullable().describe("the evidence root sealed when the run ended; null until then"),
  }),
);
const RunSummary = named(
  "RunSummary",
  z.object({
    runId: z.string(),
    workflow: WorkflowRef,
    status: z.enum(RUN_STATUSES),
    trigger: Trigger,
    createdBy: z.string(),
    jobRunId: z.string().nullable(),
    rerunOf: z.string().nullable(),
    restartOf: z.string().nullable(),
    queuedReason: z.string().nullable(),
    createdAt: iso(),
    startedAt: iso().nullable(),
    updatedAt: iso(),
    completedAt: iso().nullable(),
    durationMs: z.number().nullable(),
    error: RunError.nullable(),
    noActionReason: z.string().nullable(),
  }),
);
export const RunList = answers<Out<typeof listRuns>>()("RunList", page(RunSummary));

const FileRef = named("FileRef", z.object({ path: z.string(), sha256: hash(), size: z.number() }));
const typedValue = z.object({ type: valueType, value: z.unknown() });
const attemptFields = {
  attempt: z.number(),
  image: z.string().nullable(),
  imageHash: hash().nullable(),
  command: z.string().nullable(),
  codeHash: hash().nullable(),
  inputs: z.array(FileRef),
  outputs: z.array(FileRef),
  outputVariables: z.record(z.string(), typedValue),
  maskedOutputs: z
    .array(z.string())
    .optional()
    .describe("output variables whose value held a secret of the run and was masked (names only)"),
  exitCode: z.number().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  logSha256: hash().nullable().describe("the hash of the attempt's stored log"),
  startedAt: iso().nullable(),
  endedAt: iso().nullable(),
  durationMs: z.number().nullable(),
  host: z.string().nullable(),
  error: RunError.nullable(),
};
const Attempt = named("Attempt", z.object({ ...attemptFields, status: z.enum([...TASK_STATUSES, "interrupted"]) }));
const Decision = named(
  "Decision",
  z.object({
    by: z.string(),
    role,
    decision: z.enum(["approve", "reject", "timeout"]),
    comment: z.string().nullable(),
    at: iso(),
    contextHash: hash().describe("the hash of the run context the person saw"),
  }),
);
const Task = named(
  "Task",
  z
    .object({
      ...attemptFields,
      nodeId: z.string(),
      type: z.enum(["script", "command", "approval", "input", "wait"]),
      status: z.enum(TASK_STATUSES),
      attempts: z.array(Attempt),
      noActionReason: z.string().nullable().optional(),
      waitingSince: iso().nullable().optional().describe("human steps: since when the step waits"),
      decisions: z.array(Decision).optional().describe("approval steps: the decisions so far"),
      submittedBy: z.string().nullable().optional().describe("input steps: who answered"),
      reusedFrom: z
        .object({ runId: z.string(), attempt: z.number() })
        .nullable()
        .optional()
        .describe("a task a restart carried over: the run and attempt whose evidence it shows, not run again"),
    })
    .describe(
      "beyond the contract: error, logSha256, noActionReason and, for human steps, waitingSince, decisions, submittedBy",
    ),
);
export const TaskList = answers<{ items: Out<typeof listTasks> }>()(
  "TaskList",
  z.object({ items: z.array(Task).describe("every node of the definition, in order; nodes not started are pending") }),
);
export const TaskView = answers<Out<typeof listTasks>[number]>()("Task", Task);

const AuditEvent = named(
  "AuditEvent",
  z.object({
    seq: z.number(),
    at: iso(),
    type: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    actor: z.string(),
    detail: z.record(z.string(), z.unknown()),
    prevHash: hash(),
    hash: hash(),
  }),
);
export const AuditTrail = answers<Out<typeof auditTrail>>()(
  "AuditTrail",
  z.object({ items: z.array(AuditEvent).describe("the whole chain, oldest first (not paged)") }),
);
export const CancelAccepted = answers<Out<typeof cancelRun>>()(
  "CancelAccepted",
  z.object({ runId: z.string(), status: z.enum(RUN_STATUSES).describe("the run's status after the cancel") }),
);

// ---- Responses: evidence ------------------------------------------------------------------------------------------

export const RunFileList = answers<Out<typeof listRunFiles>>()(
  "RunFileList",
  z.object({
    items: z.array(
      z.object({
        path: z.string(),
        sha256: hash(),
        size: z.number(),
        producedBy: z.string().describe("the node that wrote it last"),
      }),
    ),
    nextCursor: z.null(),
  }),
);
export const Lineage = answers<LineageGraph>()(
  "RunLineage",
  z.object({
    runId: z.string(),
    nodes: z.array(
      z
        .looseObject({ id: z.string(), kind: z.enum(["parameter", "task", "file"]) })
        .describe(
          "parameter: name, value; task: nodeId, type, status; file: path, sha256, size, producedBy (ids are `kind:…`)",
        ),
    ),
    edges: z.array(z.object({ from: z.string(), to: z.string() })),
  }),
);
export const Verify = answers<Out<typeof verifyRun>>()(
  "VerifyReport",
  z.object({
    runId: z.string().nullable(),
    valid: z.boolean(),
    root: hash().nullable().describe("the root recomputed from the stored records (as of the seal once sealed)"),
    sealedRoot: hash().nullable().describe("beyond the contract: the root stored on the run when it ended"),
    sealed: z.boolean().describe("beyond the contract: whether the run has ended and its root is sealed"),
    problems: z.array(z.string()).describe("one sentence per problem, naming what broke; empty when valid"),
    checked: z
      .object({ auditEvents: z.number(), tasks: z.number(), files: z.number(), logs: z.number() })
      .describe("beyond the contract: how much was recomputed"),
    eventsAfterSeal: z
      .number()
      .describe("beyond the contract: audit events after the seal (covered by the chain, not by the root)"),
    restartedFrom: z
      .array(z.string())
      .optional()
      .describe("a restarted run: the runs its carried-over evidence came from, verified with it back to the original"),
  }),
);
const hashDiff = z.object({ name: z.string(), run: z.string().nullable(), other: z.string().nullable() });
const side = z.object({ match: z.boolean(), differs: z.array(hashDiff) });
const pair = z.object({ match: z.boolean(), run: z.string().nullable(), other: z.string().nullable() });
export const Compare = answers<Out<typeof compareTwoRuns>>()(
  "RunComparison",
  z.object({
    runId: z.string(),
    otherRunId: z.string(),
    identical: z.boolean(),
    definition: z.object({ match: z.boolean(), run: hash(), other: hash() }),
    parameters: side,
    tasks: z.array(
      z.object({
        nodeId: z.string(),
        match: z.boolean(),
        status: pair,
        definition: pair.describe("the hash of the node's definition in each run"),
        inputs: side,
        outputs: side,
        outputVariables: side,
        differences: z.array(z.string()).describe("one sentence per difference, naming it"),
      }),
    ),
    summary: z.string(),
  }),
);
export const FileLineage = answers<Out<typeof fileLineage>>()(
  "FileLineage",
  z.object({
    sha256: hash(),
    items: z.array(
      z.object({
        runId: z.string(),
        workflow: WorkflowRef,
        nodeId: z.string(),
        attempt: z.number(),
        role: z.enum(["produced", "read"]),
        path: z.string(),
        size: z.number(),
        at: iso(),
      }),
    ),
    nextCursor,
  }),
);

// ---- Responses: human steps ---------------------------------------------------------------------------------------

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

// ---- Responses: jobs ----------------------------------------------------------------------------------------------

const Job = answers<ReturnType<typeof jobView>>()(
  "Job",
  z.object({
    name: z.string(),
    description: z.string().nullable(),
    workflowExecutionOrder: z.array(z.string()),
    parameters: z.record(z.string(), z.record(z.string(), z.unknown())),
    createdAt: iso(),
    createdBy: z.string(),
    updatedAt: iso(),
    updatedBy: z.string(),
  }),
);
export const JobPut = answers<Out<typeof putJob>["body"]>()("Job", Job);
const ArchivedJob = named(
  "ArchivedJob",
  Job.extend({ archived: z.boolean().describe("whether the job is archived (DELETE archives it, PUT restores it)") }),
);
export const JobShown = answers<Out<typeof showJob>>()("ArchivedJob", ArchivedJob);
export const JobList = answers<Out<typeof listJobs>>()("JobList", page(ArchivedJob));
const jobRunStatus = z.enum(JOB_RUN_STATUSES);
export const JobRunRef = answers<Out<typeof createJobRun>>()(
  "JobRunStatusRef",
  z.object({ jobRunId: z.string(), status: jobRunStatus }),
);
const JobRun = answers<Out<typeof getJobRun>>()(
  "JobRun",
  z
    .object({
      jobRunId: z.string(),
      orgId: z.string(),
      job: z.string(),
      status: jobRunStatus,
      jobConfigJsonSnapshot: z
        .object({
          name: z.string(),
          description: z.string().nullable(),
          workflowExecutionOrder: z.array(z.string()),
          parameters: z.record(z.string(), z.record(z.string(), z.unknown())),
          workflows: z.array(WorkflowRef).describe("the version each workflow resolved to at creation, in order"),
        })
        .describe("what the job run executes, frozen at creation"),
      workflowRuns: z.array(
        z.object({
          workflow: z.string(),
          runId: z.string().nullable(),
          status: z
            .enum([...RUN_STATUSES, "not_started"])
            .describe("a run status, or `not_started` (runId null) for a workflow the job run halted before"),
        }),
      ),
      trigger: Trigger,
      createdBy: z.string(),
      createdAt: iso(),
      startedAt: iso().nullable(),
      updatedAt: iso(),
      completedAt: iso().nullable(),
      error: z.object({ code: z.string(), message: z.string() }).nullable(),
    })
    .describe("beyond the contract: orgId, trigger, startedAt, error; workflowRuns may hold `not_started` entries"),
);
export const JobRunView = JobRun;
export const JobRunList = answers<Out<typeof listJobRuns>>()("JobRunList", page(JobRun));

// ---- Responses: triggers ------------------------------------------------------------------------------------------

// scheduleView answers a Record<string, unknown>: no type to bind to; test/openapi.test.ts checks it on the server.
const scheduleFields = {
  name: z.string(),
  target: z.union([z.object({ workflow: z.string() }), z.object({ job: z.string() })]),
  cron: z.string(),
  timezone: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  overlap: z.enum(OVERLAP_POLICIES),
  catchupWindowSeconds: z.number(),
  nextRunAt: iso().nullable().describe("the next firing; null when disabled"),
  createdAt: iso(),
  createdBy: z.string(),
  updatedAt: iso(),
  updatedBy: z.string(),
};
const targetArchived = z
  .boolean()
  .describe("the target workflow or job is archived: the schedule does not fire until it is PUT again");
export const Schedule = named("Schedule", z.object(scheduleFields));
const ListedSchedule = named("ListedSchedule", z.object({ ...scheduleFields, targetArchived }));
export const ScheduleState = named(
  "ScheduleWithState",
  z
    .object({
      ...scheduleFields,
      lastFiredFor: iso().nullable(),
      lastRunId: z.string().nullable(),
      lastJobRunId: z.string().nullable(),
      buffered: iso().nullable().describe("overlap buffer_one: the firing waiting for the current run to end"),
      lastSkippedFor: iso().nullable(),
      lastError: z.unknown().nullable(),
      targetArchived,
    })
    .describe("a schedule with what it last did"),
);
export const ScheduleList = named("ScheduleList", page(ListedSchedule));

const subscriptionFields = {
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  createdAt: iso(),
  createdBy: z.string(),
  updatedAt: iso(),
  updatedBy: z.string(),
};
export const SubscriptionPut = answers<Out<typeof putSubscription>["body"]>()(
  "SubscriptionSaved",
  z.object({
    ...subscriptionFields,
    secret: z
      .string()
      .optional()
      .describe("only when the subscription was created without one: the generated signing secret, shown once"),
  }),
);
export const SubscriptionList = answers<Out<typeof listSubscriptions>>()(
  "SubscriptionList",
  page(named("Subscription", z.object(subscriptionFields))),
);
const Delivery = answers<Out<typeof redeliver>>()(
  "Delivery",
  z.object({
    deliveryId: z.string(),
    subscription: z.string(),
    eventId: z.string(),
    type: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attempts: z.number(),
    responseStatus: z.number().nullable(),
    durationMs: z.number().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: iso().nullable(),
    attemptLog: z.array(
      z.object({
        attempt: z.number(),
        at: iso(),
        statusCode: z.number().nullable().describe("null when the receiver did not answer"),
        durationMs: z.number(),
        error: z.string().nullable(),
      }),
    ),
    redeliveryOf: z.string().nullable(),
    createdAt: iso(),
    updatedAt: iso(),
    completedAt: iso().nullable(),
  }),
);
export const DeliveryView = Delivery;
export const DeliveryList = answers<Out<typeof listDeliveries>>()("DeliveryList", page(Delivery));

const webhookFields = {
  webhookId: z.string(),
  url: z.string().describe("/hooks/{webhookId}"),
  workflow: z.string(),
  description: z.string().nullable(),
  createdAt: iso(),
  createdBy: z.string(),
};
export const WebhookCreated = answers<Out<typeof createWebhook>>()(
  "WebhookCreated",
  z.object({ ...webhookFields, secret: z.string().describe("the HMAC signing secret, shown once") }),
);
export const WebhookList = answers<Out<typeof listWebhooks>>()(
  "WebhookList",
  page(
    named(
      "Webhook",
      z.object({
        ...webhookFields,
        workflowArchived: z
          .boolean()
          .describe("the workflow is archived: calls to the hook answer 404 and start nothing until it is PUT again"),
      }),
    ),
  ),
);
export const WebhookAccepted = answers<Out<typeof receiveWebhook>>()(
  "WebhookAccepted",
  z.object({ runId: z.string() }),
);
