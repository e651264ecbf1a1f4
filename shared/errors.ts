/** Typed errors; `name` is a literal so the state machine's Retry/Catch and the HTTP mapper can match on it. */
export type ErrorDetail = { path?: string; message: string };

/** The one base class of Stepwise's errors: a literal `name`, an HTTP status, a code, and the `cause` kept. */
export class StepwiseError extends Error {
  readonly status: number = 500;
  readonly code: string = "internal";
  readonly details?: ErrorDetail[];
  constructor(message: string, details?: ErrorDetail[], options?: { cause?: unknown }) {
    super(message, options);
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
/** Another writer moved the run's audit chain first; reload and try again (the state machine retries it). */
export class StaleStateError extends StepwiseError {
  /** The name the state machine's Retry matches (a Lambda error's errorType is the error's `name`). */
  static readonly NAME = "StaleStateError";
  override readonly name = StaleStateError.NAME;
  override readonly code = "stale_state";
}

/**
 * A task attempt failed for a reason the engine found, not its process (an input failing its integrity check, a
 * secret in an output file): `code` is what the task's error records.
 */
export class TaskFailureError extends StepwiseError {
  override readonly name: string = "TaskFailureError";
  override readonly code: string = "setup_failed";
  /** Whether another attempt would only repeat the failure (then the node is not retried). */
  readonly final: boolean = false;
}

/** A task wrote a secret value where the engine would store it in plain text (a file under out/). */
export class SecretInOutputError extends TaskFailureError {
  override readonly name = "SecretInOutputError";
  override readonly code = "secret_in_output";
  override readonly final = true;
}

/** A file's bytes failed the check against the record: the task must not read them. */
export class IntegrityError extends TaskFailureError {
  override readonly name = "IntegrityError";
  override readonly code = "integrity_failed";
}

/** A declared input is not a file of the run. */
export class InputMissingError extends TaskFailureError {
  override readonly name = "InputMissingError";
  override readonly code = "input_missing";
}

/** A node's outputs break the context's typing rule (a key's first write fixes its type): retrying repeats it. */
export class ContextTypeError extends TaskFailureError {
  override readonly name = "ContextTypeError";
  override readonly code = "context_type";
  override readonly final = true;
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
