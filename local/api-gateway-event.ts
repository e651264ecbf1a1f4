/** The embedded server's side of API Gateway: a Node request as the HTTP API (v2) event the handler gets. */
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { matchRoute } from "../functions/http/match-route.ts";

/** Converts a Node request into the API Gateway HTTP API (v2) event the Lambda handler receives in the cloud. */
export async function toApiGatewayEvent(req: IncomingMessage, body: Buffer): Promise<APIGatewayProxyEventV2> {
  const url = new URL(req.url ?? "/", "http://local");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const method = (req.method ?? "GET").toUpperCase();
  const match = matchRoute(method, url.pathname);
  // A parameter that cannot be decoded goes to the handler unmatched ($default), which answers 400 naming it.
  const matched = match.key && match.undecodable.length === 0 ? match : null;
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: matched?.key ?? "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: matched?.pathParameters,
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: "127.0.0.1",
      domainPrefix: "local",
      http: {
        method,
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: `local-${now}`,
      routeKey: matched?.key ?? "$default",
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: body.length ? body.toString("base64") : undefined,
    isBase64Encoded: body.length > 0,
  };
}

/** The request body, or null past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
