/**
 * For receivers of Stepwise's outbound event deliveries. They are signed to the Standard Webhooks specification,
 * so any Standard Webhooks library verifies them; with the `standardwebhooks` npm package:
 *
 * ```ts
 * import { Webhook } from "standardwebhooks";
 * const event = new Webhook(secret).verify(rawBody, req.headers); // throws WebhookVerificationError
 * // Deliveries are retried: deduplicate on the webhook-id header (the event id, the same on every retry).
 * ```
 *
 * `verifyDelivery` below is that call, plus the one case the library cannot guess: a subscription secret set
 * before v1.1 that is not `whsec_<base64>` signs with its own bytes as the key.
 */
import { WebhookVerificationError } from "standardwebhooks";
import { webhookFor } from "./shared/triggers/standard-webhooks.ts";

export { WebhookVerificationError };

/** Verifies a delivery over its raw body and headers; returns the event, or throws WebhookVerificationError. */
export function verifyDelivery(
  secret: string,
  rawBody: string | Uint8Array,
  headers: Record<string, string | string[] | undefined>,
): unknown {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(" ") : v;
  return webhookFor(secret).verify(rawBody, flat);
}
