import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isTerminalRun } from "../shared/domain/records.ts";
import { deleteRunSecrets, LocalSecretBox } from "../shared/human-steps/secrets.ts";
import type { LocalAreaWiring } from "./area-wiring.ts";

/** The key that seals human-input secrets at rest in embedded mode (KMS in the cloud). */
async function localSecretsKey(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, "secrets.key");
  try {
    return Buffer.from((await readFile(path, "utf8")).trim(), "base64");
  } catch {
    const key = randomBytes(32);
    await writeFile(path, key.toString("base64"), { mode: 0o600, flag: "wx" }).catch(() => {});
    return Buffer.from((await readFile(path, "utf8")).trim(), "base64");
  }
}

/** Embedded-mode wiring of human steps: the secret box, and secrets deleted when their run ends. */
export const wire: LocalAreaWiring = async (deps, ctx) => {
  deps.secrets = new LocalSecretBox(await localSecretsKey(ctx.dataDir));
  deps.runListeners.push(async (run) => {
    if (isTerminalRun(run.status)) await deleteRunSecrets(deps, run.orgId, run.runId);
  });
  return {};
};
