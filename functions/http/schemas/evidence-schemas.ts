// Request and response schemas of the evidence routes: files, lineage, verify, compare.

import { z } from "zod";
import type { compareTwoRuns, listRunFiles, verifyRun } from "../../../shared/evidence/evidence-service.ts";
import type { fileLineage, LineageGraph } from "../../../shared/evidence/lineage.ts";
import { WorkflowRef } from "./run-schemas.ts";
import { answers, hash, iso, nextCursor, type Out } from "./schema-kit.ts";

export const FileQuery = z
  .object({
    producedBy: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe("the node id of another writer of the same path (default: the latest writer)"),
  })
  .strict();

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
