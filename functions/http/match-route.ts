import type { AnyRoute } from "./route.ts";
import { ROUTES, type RouteKey } from "./routes/index.ts";

const compiled = ROUTES.map((route: AnyRoute) => {
  const names: string[] = [];
  const pattern = route.path
    .replace(/[.]/g, "\\.")
    .replace(/\{([A-Za-z][A-Za-z0-9]*)(\+?)\}/g, (_m, name: string, greedy: string) => {
      names.push(name);
      return greedy ? "(.+)" : "([^/]+)";
    });
  return { route, key: `${route.method} ${route.path}` as RouteKey, re: new RegExp(`^${pattern}$`), names };
});

function decode(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

export type RouteMatch =
  | { key: RouteKey; route: AnyRoute; pathParameters: Record<string, string>; undecodable: string[] }
  | { key: null; allowed: string[] };

/**
 * Finds the route of a request the way API Gateway does: its route key and decoded path parameters. A parameter
 * with a malformed %-escape is kept as sent and named in `undecodable`, for the caller to answer 400.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  const allowed: string[] = [];
  for (const r of compiled) {
    const m = r.re.exec(path);
    if (!m) continue;
    if (r.route.method !== method) {
      allowed.push(r.route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    const undecodable: string[] = [];
    r.names.forEach((n, i) => {
      const raw = m[i + 1] ?? "";
      const value = decode(raw);
      if (value === null) undecodable.push(n);
      pathParameters[n] = value ?? raw;
    });
    // by-hash is a literal segment that {name} would also match.
    if (r.key === "POST /api/workflows/{name}/trigger" && pathParameters.name === "by-hash") continue;
    return { key: r.key, route: r.route, pathParameters, undecodable };
  }
  return { key: null, allowed };
}

/** The route of a route key (API Gateway's `routeKey`). */
export const routeOfKey = (key: string): AnyRoute | undefined => compiled.find((r) => r.key === key)?.route;
