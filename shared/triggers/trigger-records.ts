// The stored shapes of the triggers area: subscriptions, their deliveries, and inbound webhooks.

export type DeliveryStatus = "pending" | "succeeded" | "failed";

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  /** The receiver's HTTP status; null when it did not answer (timeout, refused connection). */
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

export interface DeliveryRecord {
  deliveryId: string;
  orgId: string;
  subscription: string;
  eventId: string;
  type: string;
  /** The exact body sent on every attempt (and on redelivery): the event's JSON. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  responseStatus: number | null;
  durationMs: number | null;
  lastError: string | null;
  attemptLog: DeliveryAttempt[];
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  redeliveryOf: string | null;
}

/** What a subscription stores (its secret sealed). */
export interface SubscriptionRecord {
  orgId: string;
  name: string;
  url: string;
  events: string[];
  secretSealed: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** An inbound webhook (its secret sealed). */
export interface WebhookRecord {
  webhookId: string;
  orgId: string;
  workflow: string;
  description: string | null;
  /** The secret sealed by the secret box (KMS in the cloud, a local key embedded): HMAC checks need it back. */
  secretSealed: string;
  createdAt: string;
  createdBy: string;
}
