/**
 * Where subscriptions may send events. Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10,
 * fd00:ec2::254) are refused everywhere: a receiver URL must never reach the instance metadata service. Private
 * and loopback ranges are refused in the cloud unless the deployment allows them (SUBSCRIPTIONS_ALLOW_PRIVATE_URLS);
 * embedded mode allows them, and plain http, for development.
 *
 * A URL is checked by its literal host when it is saved, by what its name resolves to when it is saved (if it
 * resolves then), and again before every delivery, since a name can be pointed elsewhere later.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

export interface UrlPolicy {
  /** http:// as well as https:// (embedded mode). */
  allowHttp: boolean;
  /** Loopback and private ranges (embedded mode, or a cloud deployment that allows them). */
  allowPrivate: boolean;
}

/** Resolves a host name to its addresses (injectable for tests). */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

const v4 = (ip: string): [number, number] => {
  const [a, b] = ip.split(".").map(Number) as [number, number];
  return [a, b];
};

/** An IPv4 address inside an IPv4-mapped IPv6 one (::ffff:a.b.c.d, or ::ffff:a9fe:a9fe as URLs write it), or null. */
function mappedV4(ip: string): string | null {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (dotted) return dotted;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex) return null;
  const hi = Number.parseInt(hex[1] as string, 16);
  const lo = Number.parseInt(hex[2] as string, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** Link-local or cloud metadata: never a receiver. */
export function isLinkLocal(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, "").toLowerCase();
  const inner = mappedV4(ip);
  if (inner) return isLinkLocal(inner);
  if (isIP(ip) === 4) {
    const [a, b] = v4(ip);
    return a === 169 && b === 254;
  }
  if (isIP(ip) === 6) return /^fe[89ab]/.test(ip) || ip === "fd00:ec2::254";
  return false;
}

/** Loopback, private, shared (CGNAT), unspecified or unique-local: not a public receiver. */
export function isPrivate(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, "").toLowerCase();
  const inner = mappedV4(ip);
  if (inner) return isPrivate(inner);
  if (isIP(ip) === 4) {
    const [a, b] = v4(ip);
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (isIP(ip) === 6) return ip === "::1" || ip === "::" || /^f[cd]/.test(ip);
  return false;
}

/** Names that stand for this machine or a cloud's internal services. */
const privateName = (host: string) => host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal");

/** Why an address may not receive deliveries under a policy, or null when it may. */
export function refusedAddress(address: string, policy: UrlPolicy): string | null {
  if (isLinkLocal(address)) return `${address} is a link-local or cloud metadata address`;
  if (!policy.allowPrivate && isPrivate(address)) return `${address} is a private or loopback address`;
  return null;
}

/** Why a URL may not receive deliveries by its form and literal host, or null when it may. */
export function refusedUrl(url: string, policy: UrlPolicy): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `url '${url}' is not an absolute URL`;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "url must be http(s)";
  if (parsed.username || parsed.password) return "url must not carry credentials";
  if (!policy.allowHttp && parsed.protocol !== "https:") return "url must be https";
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(host)) {
    const why = refusedAddress(host, policy);
    return why ? `url must not point at ${why}` : null;
  }
  if (host === "metadata.google.internal" || host === "instance-data" || host.startsWith("instance-data."))
    return "url must not point at a cloud metadata service";
  if (!policy.allowPrivate && privateName(host)) return "url must not point at a private or loopback address";
  return null;
}

/** Why the addresses a URL's host resolves to now may not receive deliveries, or null; a name that does not resolve passes (the request fails on its own). */
export async function refusedResolved(url: string, policy: UrlPolicy, resolve: Resolver): Promise<string | null> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (isIP(host)) return null; // checked as a literal
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    return null;
  }
  for (const a of addresses) {
    const why = refusedAddress(a, policy);
    if (why) return `url's host ${host} resolves to ${why}`;
  }
  return null;
}
