// Test support: one request to a Stepwise API with a bearer key, as a client outside the server sends it.
import type { Json } from "./stack.ts";

/** An answer: its status, its body parsed as JSON (null when empty) and the text it was parsed from. */
export interface JsonResponse {
  status: number;
  body: Json;
  text: string;
}

/** Sends `body` (when given) as JSON to `url` with `key` as the bearer; never throws on a status, tests check it. */
export async function requestJson(url: string, key: string, method = "GET", body?: unknown): Promise<JsonResponse> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}
