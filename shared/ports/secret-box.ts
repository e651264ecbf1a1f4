/** Symmetric encryption of secret values (KMS in the cloud, a local key file embedded). */
export interface SecretBox {
  encrypt(plaintext: string, context: Record<string, string>): Promise<string>;
  decrypt(ciphertext: string, context: Record<string, string>): Promise<string>;
}
