import { z } from "zod";
import type { Deps } from "../deps.ts";
import { nowIso } from "../domain/clock.ts";
import type { Principal } from "../domain/records.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { PageRequest } from "../ports/run-store.ts";
import { triggersOf, urlPolicyOf } from "./area.ts";
import { deliveryView, queueDelivery, subscriptionSealContext } from "./delivery.ts";
import { isEventPattern } from "./events.ts";
import { isStandardSecret, newSigningSecret } from "./standard-webhooks.ts";
import type { SubscriptionRecord } from "./trigger-records.ts";
import { refusedResolved, refusedUrl, systemResolver } from "./url-policy.ts";
import { secretBoxOf } from "./webhooks.ts";

export const SUBSCRIPTION_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The body of `PUT /api/subscriptions/{name}`. */
export const SubscriptionBodySchema = z
  .object({
    url: z.string().min(1).max(2048),
    events: z.array(z.string()).min(1, "name at least one event type (or '*')").max(50),
    secret: z
      .string()
      .max(256)
      .refine(
        isStandardSecret,
        "a secret is whsec_<base64> (Standard Webhooks), e.g. whsec_ + 32 random bytes in base64",
      )
      .optional(),
  })
  .strict();
export type SubscriptionBody = z.infer<typeof SubscriptionBodySchema>;

const bad = (path: string, message: string) => new ValidationError(message, [{ path, message }]);

/** Refuses a receiver URL by its form, its literal host and what its name resolves to now; 400 naming `url`. */
async function checkUrl(deps: Deps, url: string): Promise<void> {
  const options = triggersOf(deps).options;
  const policy = urlPolicyOf(options);
  const why = refusedUrl(url, policy) ?? (await refusedResolved(url, policy, options.resolveHost ?? systemResolver));
  if (why) throw bad("url", why);
}

const view = (s: SubscriptionRecord) => ({
  name: s.name,
  url: s.url,
  events: s.events,
  createdAt: s.createdAt,
  createdBy: s.createdBy,
  updatedAt: s.updatedAt,
  updatedBy: s.updatedBy,
});

const getSubscription = (deps: Deps, orgId: string, name: string) => deps.repos.subscriptions.get(orgId, name);

async function subscriptionOr404(deps: Deps, orgId: string, name: string): Promise<SubscriptionRecord> {
  const s = SUBSCRIPTION_NAME_PATTERN.test(name) ? await getSubscription(deps, orgId, name) : null;
  if (!s) throw new NotFoundError(`subscription '${name}' not found`);
  return s;
}

/**
 * Creates or replaces a subscription. Without a secret, a new one is generated and returned this once (an update
 * without one keeps the old secret); secrets are stored sealed and never shown again.
 */
export async function putSubscription(deps: Deps, p: Principal, name: string, body: SubscriptionBody) {
  if (!SUBSCRIPTION_NAME_PATTERN.test(name))
    throw bad("name", "a subscription name is 1-100 letters, digits, '.', '_' or '-'");
  await checkUrl(deps, body.url);
  const unknown = body.events.filter((e) => !isEventPattern(e));
  if (unknown.length)
    throw new ValidationError(
      `unknown event type${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")} (run.<status>, job_run.<status>, run.*, job_run.*, *)`,
      unknown.map((e) => ({ path: "events", message: `unknown event type '${e}'` })),
    );
  const existing = await getSubscription(deps, p.orgId, name);
  const generated = !body.secret && !existing ? newSigningSecret() : null;
  const secret = body.secret ?? generated;
  const at = nowIso(deps.clock);
  const record: SubscriptionRecord = {
    orgId: p.orgId,
    name,
    url: body.url,
    events: [...new Set(body.events)],
    secretSealed: secret
      ? await secretBoxOf(deps).encrypt(secret, subscriptionSealContext(p.orgId, name))
      : (existing as SubscriptionRecord).secretSealed,
    createdAt: existing?.createdAt ?? at,
    createdBy: existing?.createdBy ?? p.userId,
    updatedAt: at,
    updatedBy: p.userId,
  };
  await deps.repos.subscriptions.put(record);
  return { created: !existing, body: generated ? { ...view(record), secret: generated } : view(record) };
}

/** The org's subscriptions, newest first (by creation; an update keeps a subscription's place), without secrets. */
export async function listSubscriptions(deps: Deps, p: Principal, page: PageRequest) {
  const res = await deps.repos.subscriptions.list(p.orgId, page, true);
  return { items: res.items.map(view), nextCursor: res.nextCursor };
}

/** Every subscription of an org (the event fan-out reads them all). */
export async function allSubscriptions(deps: Deps, orgId: string): Promise<SubscriptionRecord[]> {
  const out: SubscriptionRecord[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: SubscriptionRecord[]; nextCursor: string | null } = await deps.repos.subscriptions.list(
      orgId,
      { limit: 100, cursor },
      false,
    );
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Deletes a subscription; deliveries still queued for it end as failed. */
export async function deleteSubscription(deps: Deps, p: Principal, name: string): Promise<void> {
  await subscriptionOr404(deps, p.orgId, name);
  await deps.repos.subscriptions.delete(p.orgId, name);
}

/** A subscription's deliveries, newest first, each with its attempts. */
export async function listDeliveries(deps: Deps, p: Principal, name: string, page: PageRequest) {
  await subscriptionOr404(deps, p.orgId, name);
  const res = await deps.repos.deliveries.list(p.orgId, name, page);
  return { items: res.items.map(deliveryView), nextCursor: res.nextCursor };
}

/** Sends a delivery's event again, with the same event id and body, as a new delivery. */
export async function redeliver(deps: Deps, p: Principal, name: string, deliveryId: string) {
  await subscriptionOr404(deps, p.orgId, name);
  const original = /^dlv_[0-9A-HJKMNP-TV-Z]{26}$/.test(deliveryId)
    ? await deps.repos.deliveries.get(p.orgId, name, deliveryId)
    : null;
  if (!original) throw new NotFoundError(`delivery '${deliveryId}' not found in subscription '${name}'`);
  const copy = await queueDelivery(
    deps,
    p.orgId,
    name,
    { eventId: original.eventId, type: original.type, body: original.body },
    original.deliveryId,
  );
  return deliveryView(copy);
}
