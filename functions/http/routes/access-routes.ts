import { createKey, createOrg, deleteKey, listKeys } from "../../../shared/access/auth.ts";
import { ENGINE_VERSION } from "../../../shared/config.ts";
import { getRetention, putRetention } from "../../../shared/retention/retention.ts";
import { defineRoute, json, ok } from "../route.ts";
import {
  Health,
  KeyBody,
  KeyCreated,
  KeyList,
  OrgBody,
  OrgCreated,
  Retention,
  RetentionBody,
  Whoami,
} from "../schemas/access-schemas.ts";

/** Health, orgs, keys, whoami and the org's retention settings. */
export const accessRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/health",
    access: "public",
    summary: "Liveness and engine version",
    responses: { 200: json(Health, "The service is up") },
    handler: async () => ok({ status: "ok", engineVersion: ENGINE_VERSION }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/orgs",
    access: "platform",
    summary: "Create an organisation (platform key only)",
    body: OrgBody,
    responses: { 201: json(OrgCreated, "The org and an admin key of it, shown once") },
    errors: { 403: "only the platform key may create orgs", 409: "the orgId exists already" },
    handler: async (r) => ok(await createOrg(r.deps, r.principal, r.body.orgId), 201),
  }),
  defineRoute({
    method: "POST",
    path: "/api/keys",
    access: "admin",
    summary: "Create an API key of the caller's org",
    body: KeyBody,
    responses: { 201: json(KeyCreated, "The key, shown once (stored only as a hash)") },
    handler: async (r) => ok(await createKey(r.deps, r.principal, r.body.name, r.body.role), 201),
  }),
  defineRoute({
    method: "GET",
    path: "/api/keys",
    access: "admin",
    summary: "List the org's API keys (without the keys)",
    paged: true,
    responses: { 200: json(KeyList, "The org's keys") },
    handler: async (r) => ok(await listKeys(r.deps, r.principal, r.page)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/keys/{keyId}",
    access: "admin",
    summary: "Revoke an API key",
    responses: { 204: { description: "Revoked" } },
    handler: async (r) => {
      await deleteKey(r.deps, r.principal, r.params.keyId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/whoami",
    access: "viewer",
    summary: "The caller's org, key, role and user (an addition to the contract)",
    responses: { 200: json(Whoami, "Who the key is") },
    handler: async ({ principal: p }) =>
      ok({ orgId: p.orgId, keyId: p.keyId, role: p.role, userId: p.userId, platform: p.platform }),
  }),
  defineRoute({
    method: "PUT",
    path: "/api/settings/retention",
    access: "admin",
    summary: "Set the org's retention of logs and file contents",
    body: RetentionBody,
    responses: { 200: json(Retention, "The stored settings; the next sweep applies them") },
    handler: async (r) => ok(await putRetention(r.deps, r.principal, r.body)),
  }),
  defineRoute({
    method: "GET",
    path: "/api/settings/retention",
    access: "viewer",
    summary: "The org's retention settings (an addition to the contract)",
    responses: { 200: json(Retention, "The settings (defaults: days null, keepEvidence true)") },
    handler: async (r) => ok(await getRetention(r.deps, r.principal.orgId)),
  }),
] as const;
