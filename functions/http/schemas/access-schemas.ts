// Request and response schemas of the access routes: health, orgs, keys, whoami, retention settings.

import { z } from "zod";
import type { createKey, createOrg, listKeys } from "../../../shared/access/auth.ts";
import type { Principal } from "../../../shared/domain/records.ts";
import type { RetentionSettings } from "../../../shared/retention/retention.ts";
import { answers, iso, named, type Out, page, role } from "./schema-kit.ts";

export const KeyBody = named("KeyRequest", z.object({ name: z.string().min(1).max(100), role }).strict());
export const OrgBody = named("OrgRequest", z.object({ orgId: z.string() }).strict());
export const RetentionBody = named(
  "RetentionRequest",
  z
    .object({
      days: z.number().int().describe("1 to 36500"),
      keepEvidence: z.boolean().optional().describe("default true"),
    })
    .strict(),
);

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
