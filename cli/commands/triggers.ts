import type { Command } from "commander";
import type { Schedule } from "../api-client.ts";
import type { Context } from "../context.ts";
import { readNamedDocument, withoutName } from "../files.ts";
import {
  formatParameters,
  formatStatus,
  formatTime,
  formatValue,
  paint,
  renderKeyValues,
  renderTable,
  truncate,
} from "../format.ts";
import { type JsonOption, output, type PageOptions, pageFooter, withJson, withPaging } from "./options.ts";

const targetOf = (s: Pick<Schedule, "target">): string =>
  "workflow" in s.target ? `workflow ${s.target.workflow}` : `job ${s.target.job}`;

/** `schedules …`, `webhooks …` and `subscriptions …`. */
export function registerTriggerCommands(program: Command, ctx: Context): void {
  const schedules = program.command("schedules").description("start runs on a cron schedule");

  withJson(
    schedules
      .command("apply <file>")
      .description(
        "create or update a schedule from a JSON or YAML file {name, target, cron, timezone, parameters?, enabled?, overlap?, catchupWindowSeconds?}",
      ),
  ).action(async (file: string, opts: JsonOption) => {
    const doc = await readNamedDocument(file, ctx.io.cwd);
    const client = await ctx.client();
    const res = await client.applySchedule(doc.name, withoutName(doc));
    output(ctx, opts, res.body, () => {
      const verb = res.status === 201 ? "created" : "updated";
      const s = res.body;
      return `${formatStatus(verb, ctx.color)} schedule ${doc.name}: ${s.cron} (${s.timezone}) → ${targetOf(s)}`;
    });
  });

  withJson(withPaging(schedules.command("list").description("list schedules"))).action(async (opts: PageOptions) => {
    const client = await ctx.client();
    const page = await client.listSchedules({ limit: opts.limit, cursor: opts.cursor });
    output(ctx, opts, page, () =>
      page.items.length === 0
        ? "no schedules"
        : renderTable(page.items, [
            { header: "name", value: (s) => s.name },
            { header: "target", value: (s) => targetOf(s) },
            { header: "cron", value: (s) => s.cron },
            { header: "timezone", value: (s) => s.timezone },
            { header: "enabled", value: (s) => (s.enabled === false ? "no" : "yes") },
            { header: "overlap", value: (s) => s.overlap ?? "-" },
            { header: "next run", value: (s) => formatTime(s.nextRunAt) },
          ]),
    );
    if (!opts.json) pageFooter(ctx, page.nextCursor);
  });

  withJson(schedules.command("get <name>").description("show a schedule and what it last did")).action(
    async (name: string, opts: JsonOption) => {
      const client = await ctx.client();
      const s = await client.getSchedule(name);
      output(ctx, opts, s, () =>
        renderKeyValues([
          ["schedule", s.name],
          ["target", targetOf(s)],
          ["cron", s.cron],
          ["timezone", s.timezone],
          ["parameters", formatParameters(s.parameters)],
          ["enabled", s.enabled === false ? "no" : "yes"],
          ["overlap", s.overlap ?? "-"],
          ["catch-up", `${s.catchupWindowSeconds ?? 0}s`],
          ["next run", formatTime(s.nextRunAt)],
          ["last fired for", optionalTime(s.lastFiredFor)],
          ["last run", optionalText(s.lastRunId)],
          ["last job run", optionalText(s.lastJobRunId)],
          ["buffered", optionalTime(s.buffered)],
          ["last skipped for", optionalTime(s.lastSkippedFor)],
          ["last error", lastErrorOf(s.lastError)],
        ]),
      );
    },
  );

  withJson(schedules.command("delete <name>").description("delete a schedule")).action(
    async (name: string, opts: JsonOption) => {
      const client = await ctx.client();
      const res = await client.deleteSchedule(name);
      output(ctx, opts, res, () => `deleted schedule ${name}`);
    },
  );

  const webhooks = program.command("webhooks").description("start runs from signed HTTP calls");

  withJson(webhooks.command("create <workflow>").description("create a webhook; its secret is shown once")).action(
    async (workflow: string, opts: JsonOption) => {
      const client = await ctx.client();
      const hook = await client.createWebhook(workflow);
      output(ctx, opts, hook, () => [
        ...renderKeyValues([
          ["webhook", hook.webhookId],
          ["url", hook.url ? new URL(hook.url, `${client.baseUrl}/`).toString() : undefined],
          ["secret", hook.secret],
        ]),
        paint("the secret is shown only this once: store it now", "yellow", ctx.color),
        "sign each call the Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature) or GitHub's (X-Hub-Signature-256 with X-GitHub-Delivery)",
      ]);
    },
  );

  withJson(webhooks.command("list <workflow>").description("list a workflow's webhooks (without secrets)")).action(
    async (workflow: string, opts: JsonOption) => {
      const client = await ctx.client();
      const page = await client.listWebhooks(workflow);
      output(ctx, opts, page, () =>
        page.items.length === 0
          ? `no webhooks for ${workflow}`
          : renderTable(page.items, [
              { header: "webhook", value: (w) => w.webhookId },
              { header: "url", value: (w) => (w.url ? new URL(w.url, `${client.baseUrl}/`).toString() : "-") },
              { header: "created", value: (w) => formatTime(w.createdAt) },
            ]),
      );
    },
  );

  withJson(webhooks.command("delete <workflow> <webhookId>").description("revoke a webhook")).action(
    async (workflow: string, webhookId: string, opts: JsonOption) => {
      const client = await ctx.client();
      const res = await client.deleteWebhook(workflow, webhookId);
      output(ctx, opts, res, () => `deleted webhook ${webhookId} of ${workflow}`);
    },
  );

  const subscriptions = program.command("subscriptions").description("send signed event notifications to a URL");

  withJson(
    subscriptions
      .command("apply <file>")
      .description("create or update a subscription from a JSON or YAML file {name, url, events, secret?}"),
  ).action(async (file: string, opts: JsonOption) => {
    const doc = await readNamedDocument(file, ctx.io.cwd);
    const client = await ctx.client();
    const res = await client.applySubscription(doc.name, withoutName(doc));
    output(ctx, opts, res.body, () => {
      const verb = res.status === 201 ? "created" : "updated";
      const events = Array.isArray(doc.events) ? ` (${doc.events.join(", ")})` : "";
      const line = `${formatStatus(verb, ctx.color)} subscription ${doc.name} → ${String(doc.url ?? "-")}${events}`;
      // The API generated the signing secret (the file had none): this answer is the only time anyone sees it.
      const secret = typeof res.body.secret === "string" ? res.body.secret : undefined;
      if (!secret) return line;
      return [
        line,
        ...renderKeyValues([["secret", secret]]),
        paint("the secret is shown only this once: store it now", "yellow", ctx.color),
        "deliveries are signed to the Standard Webhooks spec: verify them with any Standard Webhooks library (e.g. new Webhook(secret).verify(body, headers))",
      ];
    });
  });

  withJson(withPaging(subscriptions.command("list").description("list subscriptions"))).action(
    async (opts: PageOptions) => {
      const client = await ctx.client();
      const page = await client.listSubscriptions({ limit: opts.limit, cursor: opts.cursor });
      output(ctx, opts, page, () =>
        page.items.length === 0
          ? "no subscriptions"
          : renderTable(page.items, [
              { header: "name", value: (s) => s.name },
              { header: "url", value: (s) => s.url },
              { header: "events", value: (s) => truncate((s.events ?? []).join(", "), 60) },
            ]),
      );
      if (!opts.json) pageFooter(ctx, page.nextCursor);
    },
  );

  withJson(withPaging(subscriptions.command("deliveries <name>").description("list delivery attempts"))).action(
    async (name: string, opts: PageOptions) => {
      const client = await ctx.client();
      const page = await client.listDeliveries(name, { limit: opts.limit, cursor: opts.cursor });
      output(ctx, opts, page, () =>
        page.items.length === 0
          ? `no deliveries for ${name}`
          : renderTable(page.items, [
              { header: "delivery", value: (d) => d.deliveryId },
              { header: "event", value: (d) => d.type },
              { header: "status", value: (d) => formatStatus(d.status, ctx.color) },
              { header: "attempts", value: (d) => formatValue(d.attempts), align: "right" },
              { header: "response", value: (d) => formatValue(d.responseStatus), align: "right" },
              { header: "created", value: (d) => formatTime(d.createdAt) },
            ]),
      );
      if (!opts.json) pageFooter(ctx, page.nextCursor);
    },
  );

  withJson(subscriptions.command("redeliver <name> <deliveryId>").description("send one delivery again")).action(
    async (name: string, id: string, opts: JsonOption) => {
      const client = await ctx.client();
      const res = await client.redeliver(name, id);
      output(ctx, opts, res, () => `redelivery of ${id} queued`);
    },
  );
}

const optionalText = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);
const optionalTime = (v: unknown): string | undefined => (typeof v === "string" && v ? formatTime(v) : undefined);

function lastErrorOf(v: unknown): string | undefined {
  if (!v || typeof v !== "object") return undefined;
  const e = v as { scheduledFor?: unknown; message?: unknown };
  return `${String(e.message ?? "error")}${typeof e.scheduledFor === "string" ? ` (for ${formatTime(e.scheduledFor)})` : ""}`;
}
