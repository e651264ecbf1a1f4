/**
 * Signatures to the Standard Webhooks specification (https://www.standardwebhooks.com), made with the
 * `standardwebhooks` package, for outbound deliveries and inbound hooks alike.
 *
 * Secrets are `whsec_<base64>`; the HMAC key is the base64-decoded part. A secret of another shape, set before
 * v1.1 (a subscription secret chosen freely, or a generated `whsec_<base64url>` one), keeps working: its key is
 * the secret's own UTF-8 bytes, which a receiver gives as `new Webhook(secret, { format: "raw" })`.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";

/** Timestamps further than this from now are refused (the spec's and the library's default). */
export const TOLERANCE_SECONDS = 5 * 60;

const STANDARD_SECRET = /^whsec_(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether a secret is `whsec_<base64>` (at least 3 bytes of key), the shape every new secret has. */
export const isStandardSecret = (secret: string): boolean => STANDARD_SECRET.test(secret);

/** A new random signing secret: `whsec_` + 32 random bytes in base64 (shown once). */
export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString("base64")}`;

/** The signer for a stored secret; a pre-1.1 secret of another shape signs with its raw bytes (see above). */
export function webhookFor(secret: string): Webhook {
  return isStandardSecret(secret) ? new Webhook(secret) : new Webhook(Buffer.from(secret, "utf8"), { format: "raw" });
}

/** The three Standard Webhooks headers for a message `id` whose `body` is sent at `nowMs`. */
export function signedHeaders(secret: string, id: string, body: string, nowMs: number): Record<string, string> {
  const seconds = Math.floor(nowMs / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(seconds),
    "webhook-signature": webhookFor(secret).sign(id, new Date(seconds * 1000), body),
  };
}

export type InboundCheck = { ok: true; deliveryId: string } | { ok: false; reason: string };

const constantEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Checks a Standard Webhooks signed request (`webhook-id`, `webhook-timestamp`, `webhook-signature`) by the
 * injected clock: the timestamp within 5 minutes, any one of the space-separated `v1,` signatures matching.
 */
export function checkStandardSignature(
  secret: string,
  headers: Record<string, string | undefined>,
  body: Buffer,
  nowMs: number,
): InboundCheck {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures)
    return { ok: false, reason: "webhook-id, webhook-timestamp and webhook-signature are all required" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "webhook-timestamp is not a number of seconds" };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > TOLERANCE_SECONDS)
    return { ok: false, reason: "webhook-timestamp is more than 5 minutes away from now" };
  const expected = webhookFor(secret).sign(id, new Date(Number(timestamp) * 1000), body);
  let match = false;
  // Every candidate is compared (no early exit), so timing says nothing about which one matched.
  for (const candidate of signatures.split(" ")) match = constantEqual(candidate, expected) || match;
  return match ? { ok: true, deliveryId: id } : { ok: false, reason: "the webhook-signature does not match" };
}

/**
 * Checks GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, keyed with the secret as it is
 * written (what one pastes into GitHub's form); the delivery id is `X-GitHub-Delivery`. GitHub signs neither the
 * id nor a time: the replay guard stops a request sent again as it was, not one sent with a new delivery id.
 */
export function checkGithubSignature(
  secret: string,
  headers: Record<string, string | undefined>,
  body: Buffer,
): InboundCheck {
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec((headers["x-hub-signature-256"] ?? "").trim());
  if (!m) return { ok: false, reason: "X-Hub-Signature-256 must be sha256=<hex HMAC-SHA256>" };
  const expected = createHmac("sha256", secret).update(body).digest("hex");
  if (!constantEqual((m[1] as string).toLowerCase(), expected))
    return { ok: false, reason: "the X-Hub-Signature-256 does not match the body" };
  const id = headers["x-github-delivery"];
  if (!id) return { ok: false, reason: "X-GitHub-Delivery is required with X-Hub-Signature-256" };
  return { ok: true, deliveryId: id };
}
