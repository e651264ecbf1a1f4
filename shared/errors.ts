/** Typed errors; `name` is a literal so the state machine's Retry/Catch and the HTTP mapper can match on it. */
export type ErrorDetail = { path?: string; message: string };

export class StepwiseError extends Error {
  readonly status: number = 500;
  readonly code: string = "internal";
  readonly details?: ErrorDetail[];
  constructor(message: string, details?: ErrorDetail[]) {
    super(message);
    this.details = details;
  }
}

export class ValidationError extends StepwiseError {
  override readonly name = "ValidationError";
  override readonly status = 400;
  override readonly code = "validation_failed";
}
export class UnauthorizedError extends StepwiseError {
  override readonly name = "UnauthorizedError";
  override readonly status = 401;
  override readonly code = "unauthorized";
}
export class ForbiddenError extends StepwiseError {
  override readonly name = "ForbiddenError";
  override readonly status = 403;
  override readonly code = "forbidden";
}
export class NotFoundError extends StepwiseError {
  override readonly name = "NotFoundError";
  override readonly status = 404;
  override readonly code = "not_found";
}
export class ConflictError extends StepwiseError {
  override readonly name = "ConflictError";
  override readonly status = 409;
  override readonly code = "conflict";
}
export class PayloadTooLargeError extends StepwiseError {
  override readonly name = "PayloadTooLargeError";
  override readonly status = 413;
  override readonly code = "payload_too_large";
}
export class UnsupportedMediaTypeError extends StepwiseError {
  override readonly name = "UnsupportedMediaTypeError";
  override readonly status = 415;
  override readonly code = "unsupported_media_type";
}
export class RateLimitedError extends StepwiseError {
  override readonly name = "RateLimitedError";
  override readonly status = 429;
  override readonly code = "rate_limited";
}
/** Another writer moved the run's audit chain first; reload and try again. */
export class StaleStateError extends Error {
  override readonly name = "StaleStateError";
}

/** The contract's error body for any thrown value; internals never leak. */
export function toErrorBody(err: unknown): {
  status: number;
  body: { error: { code: string; message: string; details?: ErrorDetail[] } };
} {
  if (err instanceof StepwiseError && err.status < 500) {
    const error: { code: string; message: string; details?: ErrorDetail[] } = { code: err.code, message: err.message };
    if (err.details?.length) error.details = err.details;
    return { status: err.status, body: { error } };
  }
  return { status: 500, body: { error: { code: "internal", message: "internal error" } } };
}
