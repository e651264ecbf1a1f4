import type { Deps } from "../deps.ts";
import type { TriggerAdapters, TriggerOptions } from "../ports/triggers.ts";
import type { UrlPolicy } from "./url-policy.ts";

export * from "../ports/triggers.ts";

/** The triggers' adapters and options of these deps. */
export function triggersOf(deps: Deps): TriggerAdapters {
  return deps.triggers;
}

/** The subscription URL policy the area's options give. */
export const urlPolicyOf = (o: TriggerOptions): UrlPolicy => ({
  allowHttp: o.allowInsecureUrls,
  allowPrivate: o.allowPrivateUrls,
});
