import { type Command, Option } from "commander";
import type { Context } from "../context.ts";
import { formatTime, paint, renderKeyValues, renderTable } from "../format.ts";
import { type JsonOption, output, type PageOptions, pageFooter, withJson, withPaging } from "./options.ts";

/** `keys create|list|delete`. */
export function registerKeyCommands(program: Command, ctx: Context): void {
  const keys = program.command("keys").description("API keys of your org (admin)");

  withJson(
    keys
      .command("create <name>")
      .description("create an API key; the key is shown once")
      .addOption(
        new Option("--role <role>", "what the key may do")
          .choices(["admin", "operator", "approver", "viewer"])
          .makeOptionMandatory(),
      ),
  ).action(async (name: string, opts: JsonOption & { role: string }) => {
    const client = await ctx.client();
    const key = await client.createKey(name, opts.role);
    output(ctx, opts, key, () => [
      ...renderKeyValues([
        ["key id", key.keyId],
        ["name", name],
        ["role", opts.role],
        ["key", key.key],
      ]),
      paint("the key is shown only this once: store it now", "yellow", ctx.color),
    ]);
  });

  withJson(withPaging(keys.command("list").description("list API keys (never the keys themselves)"))).action(
    async (opts: PageOptions) => {
      const client = await ctx.client();
      const page = await client.listKeys({ limit: opts.limit, cursor: opts.cursor });
      output(ctx, opts, page, () =>
        renderTable(page.items, [
          { header: "key id", value: (k) => k.keyId },
          { header: "name", value: (k) => k.name ?? "-" },
          { header: "role", value: (k) => k.role ?? "-" },
          { header: "created", value: (k) => formatTime(k.createdAt) },
        ]),
      );
      if (!opts.json) pageFooter(ctx, page.nextCursor);
    },
  );

  withJson(keys.command("delete <keyId>").description("revoke an API key")).action(
    async (keyId: string, opts: JsonOption) => {
      const client = await ctx.client();
      const res = await client.deleteKey(keyId);
      output(ctx, opts, res, () => `deleted key ${keyId}`);
    },
  );
}
