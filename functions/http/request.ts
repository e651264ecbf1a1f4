import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { z } from "zod";
import type { Deps } from "../../shared/deps.ts";
import type { Principal } from "../../shared/domain/records.ts";
import { zodDetails } from "../../shared/domain/workflow.ts";
import { ValidationError } from "../../shared/errors.ts";
import type { PageRequest } from "../../shared/ports/run-store.ts";

export interface ApiRequest {
  deps: Deps;
  principal: Principal;
  path: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  rawBody: Buffer;
  event: APIGatewayProxyEventV2;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  /** Non-JSON bodies: text or bytes with their content type. */
  raw?: { contentType: string; data: string | Buffer };
  headers?: Record<string, string>;
}

export type RouteHandler = (req: ApiRequest) => Promise<ApiResponse>;

export const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });

/** Validates a body (or query) against a schema, as a 400 naming each bad field. */
export function parseWith<T extends z.ZodTypeAny>(schema: T, value: unknown): z.infer<T> {
  const res = schema.safeParse(value ?? {});
  if (!res.success) {
    const details = zodDetails(res.error);
    throw new ValidationError(details.map((d) => d.message).join("; "), details);
  }
  return res.data;
}

/** ?limit= (default 20, max 100) and ?cursor=. */
export function pageOf(query: Record<string, string>): PageRequest {
  let limit = 20;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new ValidationError("limit must be an integer from 1 to 100", [{ path: "limit", message: "1 to 100" }]);
    }
  }
  return { limit, cursor: query.cursor || null };
}
