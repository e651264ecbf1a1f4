// Wire shapes of the routes the newer pages use (schedules, webhooks, subscriptions and deliveries, keys,
// run comparison), as docs/openapi.json describes them. Kept apart from types.ts, which is generated.
import type { Attempt, Role } from "./types.ts";

export type ScheduleTarget = { workflow: string } | { job: string };
export type Overlap = "skip" | "allow" | "buffer_one";

/** The body of PUT /api/schedules/{name}. */
export interface ScheduleRequest {
  target: ScheduleTarget;
  cron: string;
  timezone?: string;
  parameters?: Record<string, unknown>;
  enabled?: boolean;
  overlap?: Overlap;
  catchupWindowSeconds?: number;
}

/** A schedule with what it last did (GET /api/schedules and /api/schedules/{name}). */
export interface Schedule {
  name: string;
  target: ScheduleTarget;
  cron: string;
  timezone: string;
  parameters: Record<string, unknown>;
  enabled: boolean;
  overlap: Overlap;
  catchupWindowSeconds: number;
  nextRunAt: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  lastFiredFor?: string | null;
  lastRunId?: string | null;
  lastJobRunId?: string | null;
  buffered?: string | null;
  lastSkippedFor?: string | null;
  lastError?: unknown;
}

/** An inbound webhook of a workflow; the secret is only in the creation response. */
export interface Webhook {
  webhookId: string;
  url: string;
  workflow: string;
  description: string | null;
  createdAt: string;
  createdBy: string;
}

export interface WebhookCreated extends Webhook {
  secret: string;
}

/** An outbound event subscription. */
export interface Subscription {
  name: string;
  url: string;
  events: string[];
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** A saved subscription; `secret` only when the server generated it (shown once). */
export interface SubscriptionSaved extends Subscription {
  secret?: string;
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

/** One event sent (or being sent) to a subscription, with every attempt. */
export interface Delivery {
  deliveryId: string;
  subscription: string;
  eventId: string;
  type: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  responseStatus: number | null;
  durationMs: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  attemptLog: DeliveryAttempt[];
  redeliveryOf: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

/** An API key as listed: never the key itself. */
export interface ApiKey {
  keyId: string;
  orgId: string;
  name: string;
  role: Role;
  createdAt: string;
  createdBy: string;
  platform?: boolean;
}

/** The answer to POST /api/keys: the key, shown once. */
export interface KeyCreated {
  keyId: string;
  key: string;
  name: string;
  role: Role;
}

/** One named value that differs between two runs. */
export interface Differs {
  name: string;
  run: string | null;
  other: string | null;
}

export interface MatchPair {
  match: boolean;
  run: string | null;
  other: string | null;
}

/** GET /api/runs/{runId}/compare/{otherRunId}. */
export interface RunComparison {
  runId: string;
  otherRunId: string;
  identical: boolean;
  definition: MatchPair;
  parameters: { match: boolean; differs: Differs[] };
  tasks: {
    nodeId: string;
    match: boolean;
    status: MatchPair;
    definition: MatchPair;
    inputs: { match: boolean; differs: Differs[] };
    outputs: { match: boolean; differs: Differs[] };
    outputVariables: { match: boolean; differs: Differs[] };
    differences: string[];
  }[];
  summary: string;
}

/** An attempt with its output tails (in the contract's evidence, not yet in every copy of the Attempt type). */
export type AttemptEvidence = Attempt & { stdout?: string; stderr?: string };

/** A job as listed, with its per-workflow parameters ({"wf-a": {...}}). */
export interface JobWithParameters {
  name: string;
  description?: string | null;
  workflowExecutionOrder?: string[];
  parameters?: Record<string, Record<string, unknown>>;
}
