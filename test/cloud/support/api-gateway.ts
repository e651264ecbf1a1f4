// Calls the api function as API Gateway (HTTP API, payload format 2.0) would: the route key of the synthesized
// template's route that matches (literal segments before parameters, `{x+}` greedy), else `$default` when the
// template has that route; with neither, API Gateway answers itself, and so does this helper.
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { type LambdaHandler, lambdaContext } from "./cloud-stack.ts";
import type { Json } from "./synth.ts";

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
  text: string;
}

interface Route {
  key: string;
  method: string;
  pattern: RegExp;
  names: string[];
  literals: number;
}

/** The routes of the template's HTTP API, most specific first. */
export function templateRoutes(template: Json): { routes: Route[]; hasDefault: boolean } {
  const keys = Object.values(template.Resources as Record<string, Json>)
    .filter((r) => r.Type === "AWS::ApiGatewayV2::Route")
    .map((r) => r.Properties.RouteKey as string);
  const routes = keys
    .filter((k) => k !== "$default")
    .map((key) => {
      const [method, path] = key.split(" ") as [string, string];
      const names: string[] = [];
      const segments = path.split("/").filter(Boolean);
      const source = segments
        .map((s) => {
          const greedy = /^\{(.+)\+\}$/.exec(s);
          if (greedy) {
            names.push(greedy[1] as string);
            return "(.+)";
          }
          const param = /^\{(.+)\}$/.exec(s);
          if (param) {
            names.push(param[1] as string);
            return "([^/]+)";
          }
          return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        })
        .join("/");
      return {
        key,
        method,
        pattern: new RegExp(`^/${source}$`),
        names,
        literals: segments.filter((s) => !s.startsWith("{")).length,
      };
    })
    .sort((a, b) => b.literals - a.literals);
  return { routes, hasDefault: keys.includes("$default") };
}

/** An HTTP API client that calls the api handler with API Gateway's events. */
export function apiGateway(template: Json, handler: LambdaHandler) {
  const { routes, hasDefault } = templateRoutes(template);
  return async function call(
    method: string,
    pathAndQuery: string,
    opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer> {
    const [rawPath = "", rawQueryString = ""] = pathAndQuery.split("?");
    let routeKey = "";
    let pathParameters: Record<string, string> | undefined;
    for (const r of routes) {
      const m = r.method === method ? r.pattern.exec(rawPath) : null;
      if (!m) continue;
      routeKey = r.key;
      pathParameters = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1] as string)]));
      break;
    }
    if (!routeKey) {
      // API Gateway's own answer when no route matches and there is no $default route.
      if (!hasDefault)
        return { status: 404, headers: {}, body: { message: "Not Found" }, text: '{"message":"Not Found"}' };
      routeKey = "$default";
    }
    const headers: Record<string, string> = { host: "api.example", ...opts.headers };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    if (opts.body !== undefined) headers["content-type"] ??= "application/json";
    const query = new URLSearchParams(rawQueryString);
    const event: APIGatewayProxyEventV2 = {
      version: "2.0",
      routeKey,
      rawPath,
      rawQueryString,
      headers,
      queryStringParameters: rawQueryString ? Object.fromEntries(query) : undefined,
      pathParameters,
      requestContext: {
        accountId: "123456789012",
        apiId: "cloudsuite",
        domainName: "api.example",
        domainPrefix: "api",
        http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "cloud-suite" },
        requestId: `req-${Math.random().toString(36).slice(2)}`,
        routeKey,
        stage: "$default",
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
      isBase64Encoded: false,
    };
    const res = (await handler(event, lambdaContext("Api"))) as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
      isBase64Encoded?: boolean;
    };
    const text = res.body ? (res.isBase64Encoded ? Buffer.from(res.body, "base64").toString("utf8") : res.body) : "";
    let body: unknown = text;
    if ((res.headers?.["content-type"] ?? "").includes("json") && text) body = JSON.parse(text);
    return { status: res.statusCode, headers: res.headers ?? {}, body, text };
  };
}
