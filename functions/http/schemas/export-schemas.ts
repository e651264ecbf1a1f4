// Response schemas of the asynchronous export routes.

import { z } from "zod";
import type { exportStatus } from "../../../shared/evidence/export-jobs.ts";
import { answers, hash, iso, type Out } from "./schema-kit.ts";

const fields = {
  exportId: z.string().describe("exp_<ULID>"),
  runId: z.string(),
  status: z.enum(["pending", "building", "ready", "failed"]),
  createdAt: iso(),
  updatedAt: iso(),
  size: z.number().nullable().describe("the bundle's size in bytes, once ready"),
  root: hash().nullable().describe("the run's evidence root the bundle carries"),
  error: z.string().nullable().describe("why the build failed"),
};

export const ExportAccepted = z.object(fields);

export const ExportStatusSchema = answers<Out<typeof exportStatus>>()(
  "ExportStatus",
  z.object({
    ...fields,
    url: z
      .string()
      .nullable()
      .describe("when ready (cloud deployment and embedded storage): a presigned URL of the bundle, valid 15 minutes"),
  }),
);
