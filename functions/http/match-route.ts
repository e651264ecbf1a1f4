import { ROUTE_SPECS, type RouteKey, type RouteSpec } from "./route-specs.ts";

const compiled = ROUTE_SPECS.map((spec) => {
  const names: string[] = [];
  const pattern = spec.path.replace(/\{([A-Za-z][A-Za-z0-9]*)(\+?)\}/g, (_m, name: string, greedy: string) => {
    names.push(name + greedy);
    return greedy ? "(.+)" : "([^/]+)";
  });
  return {
    spec: spec as RouteSpec,
    key: `${spec.method} ${spec.path}` as RouteKey,
    re: new RegExp(`^${pattern}$`),
    names,
  };
});

/** Finds the route for a request the way API Gateway does: its route key and decoded path parameters. */
export function matchRoute(
  method: string,
  path: string,
): { key: RouteKey; spec: RouteSpec; pathParameters: Record<string, string> } | { key: null; allowed: string[] } {
  const allowed: string[] = [];
  for (const r of compiled) {
    const m = r.re.exec(path);
    if (!m) continue;
    // by-hash is a literal segment that {name} would also match.
    if (r.spec.method !== method) {
      allowed.push(r.spec.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    r.names.forEach((n, i) => {
      pathParameters[n] = decodeURIComponent(m[i + 1] as string);
    });
    if (r.key === "POST /api/workflows/{name}/trigger" && pathParameters.name === "by-hash") continue;
    return { key: r.key, spec: r.spec, pathParameters };
  }
  return { key: null, allowed };
}

/** The spec of a route key. */
export const specOf = (key: string): RouteSpec | undefined => compiled.find((r) => r.key === key)?.spec;
