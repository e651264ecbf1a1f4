import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Deps, SecretBox } from "../deps.ts";

const SECRET_TTL_SECONDS = 30 * 86400;

/** AES-256-GCM with a local key: the embedded mode's stand-in for KMS. */
export class LocalSecretBox implements SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error("the local secrets key must be 32 bytes");
  }

  async encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(JSON.stringify(context)));
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), data.toString("base64")].join(".");
  }

  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    const [v, iv, tag, data] = ciphertext.split(".");
    if (v !== "v1" || !iv || !tag || !data) throw new Error("not a sealed secret");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64"));
    decipher.setAAD(Buffer.from(JSON.stringify(context)));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64")), decipher.final()]).toString("utf8");
  }
}

/** Stores a human input's secret fields encrypted, outside the audited records. */
export async function storeSecrets(
  deps: Deps,
  orgId: string,
  runId: string,
  nodeId: string,
  values: Record<string, string>,
) {
  if (!deps.secrets) throw new Error("no secret box is configured");
  const context = { orgId, runId, nodeId };
  const sealed: Record<string, string> = {};
  for (const [field, value] of Object.entries(values)) sealed[field] = await deps.secrets.encrypt(value, context);
  await deps.repos.runSecrets.put(
    orgId,
    runId,
    { nodeId, sealed },
    Math.floor(deps.clock.nowMs() / 1000) + SECRET_TTL_SECONDS,
  );
}

/** The run's decrypted secrets as `<nodeId>.<field>` → value, for the nodes that run after the input. */
export async function runSecrets(deps: Deps, orgId: string, runId: string): Promise<Record<string, string>> {
  if (!deps.secrets) return {};
  const out: Record<string, string> = {};
  for (const item of await deps.repos.runSecrets.list(orgId, runId)) {
    for (const [field, sealed] of Object.entries(item.sealed)) {
      out[`${item.nodeId}.${field}`] = await deps.secrets.decrypt(sealed, { orgId, runId, nodeId: item.nodeId });
    }
  }
  return out;
}

/** Deletes a run's secrets (called when the run ends). */
export async function deleteRunSecrets(deps: Deps, orgId: string, runId: string): Promise<void> {
  await deps.repos.runSecrets.deleteAll(orgId, runId);
}
