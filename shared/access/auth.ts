import { randomBytes } from "node:crypto";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { sha256 } from "../domain/hash.ts";
import { newId } from "../domain/ids.ts";
import { type Principal, ROLES, type Role } from "../domain/records.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from "../errors.ts";
import type { PageRequest } from "../ports/run-store.ts";

export const DEFAULT_ORG = "default";

/** A new secret API key; only its hash is ever stored. */
export const generateKey = (): string => `sw_${randomBytes(24).toString("base64url")}`;

/** Who the platform key acts as: an admin of org `default` (also the loader of the example workflows and jobs). */
export const PLATFORM_PRINCIPAL: Principal = {
  orgId: DEFAULT_ORG,
  keyId: "key_platform",
  role: "admin",
  userId: "platform",
  platform: true,
};

/** Resolves a bearer key to the principal it acts as; 401 when missing or unknown. */
export async function authenticate(deps: Deps, authorization: string | undefined): Promise<Principal> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (!m) throw new UnauthorizedError("missing bearer API key");
  const hash = sha256(m[1] as string);
  if (deps.settings.platformKeyHash && hash === deps.settings.platformKeyHash) {
    return PLATFORM_PRINCIPAL;
  }
  const key = await deps.repos.keys.findByHash(hash);
  if (!key) throw new UnauthorizedError("unknown API key");
  return { orgId: key.orgId, keyId: key.keyId, role: key.role, userId: key.name, platform: false };
}

/** Throws 403 unless the principal may act at `min`: viewer is anyone, operator and approver are siblings, admin is all. */
export function authorize(p: Principal, min: Role | "platform"): void {
  if (min === "platform") {
    if (!p.platform) throw new ForbiddenError("only the platform key may do this");
    return;
  }
  if (min === "viewer" || p.role === "admin" || p.role === min) return;
  throw new ForbiddenError(`the ${p.role} role may not do this (needs ${min})`);
}

/** Creates an org and returns an admin key of it (shown once). */
export async function createOrg(deps: Deps, p: Principal, orgId: unknown): Promise<{ orgId: string; key: string }> {
  if (typeof orgId !== "string" || !/^[a-z0-9][a-z0-9-]{1,62}$/.test(orgId)) {
    throw new ValidationError("orgId must be 2-63 lowercase letters, digits or '-'", [
      { path: "orgId", message: "invalid org id" },
    ]);
  }
  // The platform key's org exists from the start in every runtime, whether or not an item was ever written for it
  // (the cloud never writes one).
  if (orgId === DEFAULT_ORG) throw new ConflictError(`org '${orgId}' already exists`);
  const at = nowIso(deps.clock);
  await deps.repos.keys.createOrg(orgId, at);
  const key = generateKey();
  await deps.repos.keys.put({
    keyId: newId("key", deps.clock.nowMs()),
    orgId,
    name: "admin",
    role: "admin",
    keyHash: sha256(key),
    createdAt: at,
    createdBy: p.userId,
  });
  return { orgId, key };
}

/** Creates a key of the caller's org for a named person or system. */
export async function createKey(
  deps: Deps,
  p: Principal,
  name: string,
  role: Role,
): Promise<{ keyId: string; key: string; name: string; role: Role }> {
  if (!ROLES.includes(role)) throw new ValidationError(`role must be one of ${ROLES.join(", ")}`);
  const key = generateKey();
  const keyId = newId("key", deps.clock.nowMs());
  await deps.repos.keys.put({
    keyId,
    orgId: p.orgId,
    name,
    role,
    keyHash: sha256(key),
    createdAt: nowIso(deps.clock),
    createdBy: p.userId,
  });
  return { keyId, key, name, role };
}

export async function listKeys(deps: Deps, p: Principal, page: PageRequest) {
  const res = await deps.repos.keys.list(p.orgId, page);
  return { items: res.items.map(({ keyHash: _h, ...rest }) => rest), nextCursor: res.nextCursor };
}

export async function deleteKey(deps: Deps, p: Principal, keyId: string): Promise<void> {
  if (!(await deps.repos.keys.delete(p.orgId, keyId))) throw new NotFoundError(`key '${keyId}' not found`);
}
