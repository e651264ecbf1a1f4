// Request and response schemas of the workflow and run routes.

import { z } from "zod";
import { RUN_STATUSES, TASK_STATUSES } from "../../../shared/domain/records.ts";
import { VALUE_TYPES, WorkflowDefinitionSchema } from "../../../shared/domain/workflow.ts";
import type { restartRun } from "../../../shared/runs/restart.ts";
import type { auditTrail, cancelRun, listRuns, listTasks, runView, triggerRun } from "../../../shared/runs/runs.ts";
import type { listVersions, listWorkflows, putWorkflow, workflowView } from "../../../shared/workflows/workflows.ts";
import { answers, hash, iso, named, type Out, page, role } from "./schema-kit.ts";

const parametersBody = z.record(z.string(), z.unknown()).describe("the workflow's parameters, by name");
export const TriggerBody = named("TriggerRequest", z.object({ parameters: parametersBody.optional() }).strict());
export const RunBody = named(
  "RunRequest",
  z
    .object({
      workflow: z.string().min(1),
      definitionHash: z.string().optional().describe("pins the run to this exact definition of the workflow"),
      parameters: parametersBody.optional(),
    })
    .strict(),
);
export const RestartBody = named(
  "RestartRequest",
  z
    .object({
      from: z
        .array(z.string().min(1).max(64))
        .max(200)
        .optional()
        .describe("nodes to run again with everything downstream (default: every failed, cancelled or skipped node)"),
      definition: z
        .enum(["same", "latest"])
        .optional()
        .describe(
          "`latest`: the workflow's latest version; a node is carried over only if its own definition is unchanged",
        ),
    })
    .strict(),
);
export const ArchivedQuery = z.object({
  archived: z.enum(["true", "false"]).optional().describe("`true` lists the archived ones instead"),
});
export const CancelBody = named("CancelRequest", z.object({ reason: z.string().max(1000).optional() }).strict());
/** The filters of a run list (?limit= and ?cursor= are the paging middleware's). */
export const RunQuery = z
  .object({
    workflow: z.string().optional(),
    status: z.enum(RUN_STATUSES).optional(),
    jobRunId: z.string().optional(),
  })
  .strict();
export const WorkflowBody = named("WorkflowDefinition", WorkflowDefinitionSchema);

export const WorkflowRef = named(
  "WorkflowRef",
  z.object({ name: z.string(), version: z.number(), definitionHash: hash() }),
);
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
export const Trigger = named(
  "Trigger",
  z
    .looseObject({
      type: z.enum(["manual", "schedule", "webhook", "job", "rerun", "restart"]),
      userId: z.string().optional(),
    })
    .describe("how the run started; schedule, webhook and job triggers name their source (e.g. webhookId)"),
);
export const RunError = named(
  "RunError",
  z.object({ code: z.string(), message: z.string(), nodeId: z.string().optional() }),
);
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
    lane: z
      .enum(["standard", "express"])
      .describe(
        "beyond the contract: the Step Functions lane chosen at trigger. Express for runs with no human step, no " +
          "wait past the inline threshold, no container node and no node timeout past five minutes; else Standard",
      ),
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
      type: z.enum(["script", "command", "container", "lambda", "approval", "input", "wait"]),
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
