import { z } from "zod";
import { archiveMarker } from "../archive/archive.ts";
import type { Deps, SecretBox } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import { newId } from "../domain/ids.ts";
import type { Principal } from "../domain/records.ts";
import { NotFoundError, PayloadTooLargeError, UnauthorizedError, ValidationError } from "../errors.ts";
import type { PageRequest } from "../ports/run-store.ts";
import { triggerRun } from "../runs/runs.ts";
import { triggersOf } from "./area.ts";
import { checkGithubSignature, checkStandardSignature, newSigningSecret } from "./standard-webhooks.ts";
import type { WebhookRecord } from "./trigger-records.ts";

/** The body of `POST /api/workflows/{name}/webhooks` (optional). */
export const WebhookBodySchema = z.object({ description: z.string().max(500).optional() }).strict();

const WEBHOOK_ID = /^wh_[0-9A-HJKMNP-TV-Z]{26}$/;

/** Secrets of webhooks and subscriptions are sealed with the runtime's secret box, bound to what they belong to. */
export function secretBoxOf(deps: Deps): SecretBox {
  if (!deps.secrets) throw new Error("no secret box is configured (SECRETS_KMS_KEY_ID in the cloud)");
  return deps.secrets;
}

const sealContext = (orgId: string, webhookId: string) => ({ orgId, webhookId, purpose: "webhook" });

const view = (w: WebhookRecord) => ({
  webhookId: w.webhookId,
  url: `/hooks/${w.webhookId}`,
  workflow: w.workflow,
  description: w.description,
  createdAt: w.createdAt,
  createdBy: w.createdBy,
});

/** Creates an inbound webhook for a workflow; the secret is returned this once and stored sealed. */
export async function createWebhook(deps: Deps, p: Principal, workflow: string, description?: string) {
  const wf = await deps.repos.workflows.get(p.orgId, workflow);
  if (!wf) throw new NotFoundError(`workflow '${workflow}' not found`);
  const webhookId = newId("wh", deps.clock.nowMs());
  const secret = newSigningSecret();
  const record: WebhookRecord = {
    webhookId,
    orgId: p.orgId,
    workflow: wf.name,
    description: description ?? null,
    secretSealed: await secretBoxOf(deps).encrypt(secret, sealContext(p.orgId, webhookId)),
    createdAt: nowIso(deps.clock),
    createdBy: p.userId,
  };
  await deps.repos.webhooks.create(record);
  return { ...view(record), secret };
}

/** A workflow's webhooks, newest first, without secrets. */
export async function listWebhooks(deps: Deps, p: Principal, workflow: string, page: PageRequest) {
  const wf = await deps.repos.workflows.get(p.orgId, workflow);
  if (!wf) throw new NotFoundError(`workflow '${workflow}' not found`);
  const res = await deps.repos.webhooks.list(p.orgId, workflow, page);
  // A hook of an archived workflow answers 404 and starts nothing until the workflow is PUT again.
  const workflowArchived = (await archiveMarker(deps, p.orgId, "workflow", workflow)) !== null;
  return { items: res.items.map((w) => ({ ...view(w), workflowArchived })), nextCursor: res.nextCursor };
}

async function loadOwned(deps: Deps, orgId: string, workflow: string, webhookId: string) {
  const hook = WEBHOOK_ID.test(webhookId) ? await deps.repos.webhooks.get(webhookId) : null;
  // Another org's hook is as absent as a missing one.
  if (!hook || hook.orgId !== orgId || hook.workflow !== workflow)
    throw new NotFoundError(`webhook '${webhookId}' not found for workflow '${workflow}'`);
  return hook;
}

/** Revokes a webhook: later calls to its URL get 404. */
export async function deleteWebhook(deps: Deps, p: Principal, workflow: string, webhookId: string): Promise<void> {
  await loadOwned(deps, p.orgId, workflow, webhookId);
  await deps.repos.webhooks.delete(webhookId);
}

export interface InboundCall {
  webhookId: string;
  rawBody: Buffer;
  /** The parsed JSON body (undefined when empty). */
  body: unknown;
  /** The request's headers, names in lower case. */
  headers: Record<string, string | undefined>;
}

/** Longest delivery id kept for the replay guard (Standard Webhooks ids and GitHub's UUIDs are far shorter). */
const MAX_DELIVERY_ID = 160;

/**
 * Checks the signature, Standard Webhooks (`webhook-signature`) or GitHub (`X-Hub-Signature-256`); returns the
 * delivery id it vouches for. Nothing else is tried when a scheme's header is there but wrong.
 */
function signedDeliveryId(secret: string, call: InboundCall, nowMs: number): string {
  const h = call.headers;
  const check = h["webhook-signature"]
    ? checkStandardSignature(secret, h, call.rawBody, nowMs)
    : h["x-hub-signature-256"]
      ? checkGithubSignature(secret, h, call.rawBody)
      : {
          ok: false as const,
          reason:
            "sign the call: webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks) or X-Hub-Signature-256 with X-GitHub-Delivery",
        };
  if (!check.ok) throw new UnauthorizedError(check.reason);
  return check.deliveryId;
}

/**
 * `POST /hooks/{webhookId}`: checks size, hook and signature (over the raw body, in constant time), then triggers
 * the workflow with the JSON body as its parameters. Nothing starts unless every check passes. The signed delivery
 * id is the idempotency key: the same delivery again within 24 h answers with the first run, never a second one.
 */
export async function receiveWebhook(deps: Deps, call: InboundCall): Promise<{ runId: string }> {
  const limit = triggersOf(deps).options.maxWebhookBodyBytes;
  if (call.rawBody.length > limit) throw new PayloadTooLargeError(`a webhook body may be at most ${limit} bytes`);
  const hook = WEBHOOK_ID.test(call.webhookId) ? await deps.repos.webhooks.get(call.webhookId) : null;
  if (!hook) throw new NotFoundError(`webhook '${call.webhookId}' not found`);
  const secret = await secretBoxOf(deps).decrypt(hook.secretSealed, sealContext(hook.orgId, hook.webhookId));
  const deliveryId = signedDeliveryId(secret, call, deps.clock.nowMs());
  if (deliveryId.length > MAX_DELIVERY_ID)
    throw new ValidationError(`the delivery id is longer than ${MAX_DELIVERY_ID} characters`);
  const body = call.body ?? {};
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ValidationError("the webhook body must be a JSON object of parameters", [
      { path: "body", message: "must be an object" },
    ]);
  const principal: Principal = {
    orgId: hook.orgId,
    keyId: hook.webhookId,
    role: "operator",
    userId: `webhook:${hook.webhookId}`,
    platform: false,
  };
  const res = await triggerRun(deps, principal, {
    workflow: hook.workflow,
    parameters: body,
    // Scoped to the hook, so two senders' ids never collide with each other or with manual triggers.
    idempotencyKey: `${hook.webhookId}:${deliveryId}`,
    trigger: { type: "webhook", webhookId: hook.webhookId },
  });
  return { runId: res.runId };
}
