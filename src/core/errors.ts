/**
 * Typed operating errors with stable, low-cardinality codes (API.md, "Conventions").
 *
 * Every error that crosses a boundary (HTTP, CLI, RPC) is a `VltairError` whose `code` is one of
 * `ERROR_CODES`. The HTTP status is derived from the code through one table, so a code can never
 * be rendered with two different statuses. A failed `assert` is a bug, not a `VltairError`.
 */

/** HTTP status of each stable error code; the single mapping used by every surface. */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  filters_invalid: 400,
  config_invalid: 400,
  policy_invalid: 400,
  workflow_invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  policy_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  version_conflict: 409,
  idempotency_conflict: 409,
  embedder_mismatch: 409,
  payload_too_large: 413,
  rate_limited: 429,
  queue_full: 429,
  budget_exceeded: 429,
  internal: 500,
  unavailable: 503,
  embedding_unavailable: 503,
  deadline_exceeded: 504,
} as const;

/** The closed set of error codes clients may match on. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every stable error code, in table order. */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** Structured, JSON-serialisable context of an error (field names, limits, indexes). */
export type ErrorDetails = Record<string, unknown>;

/** Options of {@link VltairError}. */
export interface VltairErrorOptions {
  details?: ErrorDetails;
  cause?: unknown;
  /** Extra response headers, e.g. `Allow` for 405 or `Retry-After` for 429/503. */
  headers?: Record<string, string>;
}

/**
 * An operating error with a stable `code`.
 *
 * @example
 * ```ts
 * throw new VltairError("payload_too_large", "body exceeds 1048576 bytes", {
 *   details: { limit_bytes: 1048576 },
 * });
 * ```
 */
export class VltairError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: VltairErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "VltairError";
    this.code = code;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }

  /** The HTTP status this error renders with. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** The HTTP status of a code. */
export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** True when `value` is one of the stable error codes. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_STATUS, value);
}
