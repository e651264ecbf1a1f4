import { createHash } from "node:crypto";
import type { Deps } from "../deps.ts";

/**
 * The largest text an API answer carries itself. Lambda caps a response at 6 MB including API Gateway's JSON
 * envelope; anything larger is written to the bucket and answered with a redirect to a presigned URL.
 */
export const INLINE_ANSWER_MAX_BYTES = 4 * 1024 * 1024;

/** How long a presigned URL of a large answer stays valid. */
const PRESIGN_SECONDS = 300;

/** A text answer: the text itself, or where to fetch it when it is too large to return through Lambda. */
export type TextAnswer = { text: string } | { location: string };

/**
 * Hands back `text` as is when it fits a Lambda response; otherwise stores it under the run's prefix (so retention
 * deletes it with the run's logs) and returns a presigned URL to it. Without presigning (a blob store that cannot),
 * the text is returned as is.
 */
export async function textAnswer(
  deps: Deps,
  where: { orgId: string; runId: string; name: string },
  text: string,
  contentType: string,
): Promise<TextAnswer> {
  if (Buffer.byteLength(text, "utf8") <= INLINE_ANSWER_MAX_BYTES || !deps.blobs.presignGet) return { text };
  // Named by content: the same logs asked for twice are stored once.
  const digest = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const key = `orgs/${where.orgId}/runs/${where.runId}/answers/${where.name}-${digest}.txt`;
  await deps.blobs.put(key, text, contentType);
  return { location: await deps.blobs.presignGet(key, PRESIGN_SECONDS) };
}
