// The CLI reference in docs/cli.md is generated from the commander program; this fails when someone changes a
// command without regenerating it (`npm run docs:cli`), so the reference cannot drift from the CLI.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI_REFERENCE_PATH, renderCliReference } from "../../scripts/cli-reference.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");

describe("docs/cli.md", () => {
  it("matches the commands, arguments and options the CLI defines", async () => {
    const committed = await readFile(join(ROOT, CLI_REFERENCE_PATH), "utf8");
    expect(committed, "docs/cli.md is stale: run `npm run docs:cli`").toBe(renderCliReference());
  });

  it("documents every command, including the ones added last", () => {
    const reference = renderCliReference();
    for (const heading of [
      "### stepwise runs reject",
      "### stepwise subscriptions redeliver",
      "### stepwise keys create",
    ])
      expect(reference).toContain(heading);
    expect(reference).toContain("`-m, --message <reason>`");
  });
});
