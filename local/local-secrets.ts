import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The key that seals human-input secrets at rest in embedded mode (KMS in the cloud), made once per data dir. */
export async function localSecretsKey(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, "secrets.key");
  try {
    return Buffer.from((await readFile(path, "utf8")).trim(), "base64");
  } catch {
    const key = randomBytes(32);
    await writeFile(path, key.toString("base64"), { mode: 0o600, flag: "wx" }).catch(() => {});
    return Buffer.from((await readFile(path, "utf8")).trim(), "base64");
  }
}
