import type { APIGatewayProxyResultV2 } from "aws-lambda";
import type { ApiResponse } from "./route.ts";

/** API Gateway's structured answer (never the bare-string form). */
export type ApiResult = Exclude<APIGatewayProxyResultV2, string>;

/** A handler's answer as API Gateway's result: JSON, text, or base64 bytes. */
export function respond(res: ApiResponse): ApiResult {
  const headers: Record<string, string> = { "cache-control": "no-store", ...res.headers };
  if (res.raw) {
    headers["content-type"] = res.raw.contentType;
    const data = res.raw.data;
    if (typeof data === "string") return { statusCode: res.status, headers, body: data };
    return { statusCode: res.status, headers, body: data.toString("base64"), isBase64Encoded: true };
  }
  if (res.body === undefined) return { statusCode: res.status, headers };
  headers["content-type"] = "application/json; charset=utf-8";
  return { statusCode: res.status, headers, body: JSON.stringify(res.body) };
}
