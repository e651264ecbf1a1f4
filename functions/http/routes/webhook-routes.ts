import { createWebhook, deleteWebhook, listWebhooks, receiveWebhook } from "../../../shared/triggers/webhooks.ts";
import { defineRoute, json, ok } from "../route.ts";
import { HookBody, WebhookAccepted, WebhookBody, WebhookCreated, WebhookList } from "../schemas/trigger-schemas.ts";

/** Inbound webhooks: creating, listing and revoking them, and the signed endpoint that starts runs. */
export const webhookRoutes = [
  defineRoute({
    method: "POST",
    path: "/api/workflows/{name}/webhooks",
    access: "operator",
    summary: "Create an inbound webhook for the workflow",
    body: WebhookBody,
    responses: { 201: json(WebhookCreated, "The webhook and its signing secret, shown once") },
    handler: async (r) => ok(await createWebhook(r.deps, r.principal, r.params.name, r.body.description), 201),
  }),
  defineRoute({
    method: "GET",
    path: "/api/workflows/{name}/webhooks",
    access: "viewer",
    summary: "The workflow's webhooks (without secrets)",
    paged: true,
    responses: { 200: json(WebhookList, "The webhooks, newest first") },
    handler: async (r) => ok(await listWebhooks(r.deps, r.principal, r.params.name, r.page)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/workflows/{name}/webhooks/{webhookId}",
    access: "operator",
    summary: "Revoke a webhook (later calls to its URL get 404)",
    responses: { 204: { description: "Revoked" } },
    handler: async (r) => {
      await deleteWebhook(r.deps, r.principal, r.params.name, r.params.webhookId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "POST",
    path: "/hooks/{webhookId}",
    access: "signed",
    summary: "Inbound webhook: start a run of the hook's workflow",
    description:
      "No bearer key: signed the Standard Webhooks way (webhook-id, webhook-timestamp within 5 minutes, webhook-signature) or GitHub's way (X-Hub-Signature-256 with X-GitHub-Delivery); a bad or missing signature is 401 and starts nothing. The same delivery id again (24 h) answers 202 with the first runId and starts no second run. The JSON body becomes the run's parameters; runs have trigger.type webhook.",
    // receiveWebhook checks the signature over the raw bytes before it reads the JSON.
    bodyDoc: HookBody,
    headers: ["WebhookIdHeader", "WebhookTimestamp", "WebhookSignature", "HubSignature256", "GithubDelivery"],
    responses: { 202: json(WebhookAccepted, "The run is queued") },
    errors: {
      400: "a body that is not a JSON object, or missing or mistyped parameters (no run is created)",
      401: "a missing or bad signature (no run is created)",
      404: "no such webhook (or it was revoked)",
      413: "the body is over the webhook body limit",
    },
    handler: async (r) =>
      ok(
        await receiveWebhook(r.deps, {
          webhookId: r.params.webhookId,
          rawBody: r.rawBody,
          body: r.json,
          headers: r.headers,
        }),
        202,
      ),
  }),
] as const;
