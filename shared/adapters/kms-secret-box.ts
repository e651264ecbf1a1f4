import { DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import type { SecretBox } from "../ports/secret-box.ts";

/** Secrets sealed with a KMS key; the encryption context binds each value to its org, run and node. */
export class KmsSecretBox implements SecretBox {
  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  static create(keyId: string): KmsSecretBox {
    return new KmsSecretBox(new KMSClient({}), keyId);
  }

  async encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    const res = await this.kms.send(
      new EncryptCommand({ KeyId: this.keyId, Plaintext: Buffer.from(plaintext, "utf8"), EncryptionContext: context }),
    );
    return `kms.${Buffer.from(res.CiphertextBlob ?? new Uint8Array()).toString("base64")}`;
  }

  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    if (!ciphertext.startsWith("kms.")) throw new Error("not a KMS-sealed secret");
    const res = await this.kms.send(
      new DecryptCommand({ CiphertextBlob: Buffer.from(ciphertext.slice(4), "base64"), EncryptionContext: context }),
    );
    return Buffer.from(res.Plaintext ?? new Uint8Array()).toString("utf8");
  }
}
