/**
 * Redaction of secrets before anything is logged or rendered (STYLE.md, "Logs").
 * A key that names a credential has its value replaced, at any depth, and string values that
 * look like a bearer credential are masked too, so a token pasted into a free-text field does
 * not reach the log either.
 */

const SECRET_KEY = /token|secret|password|passwd|authorization|api[_-]?key|cookie|credential/i;
const BEARER = /\b(Bearer\s+)[^\s"']+/gi;
const TOKEN_PREFIX = /\bvlt_[A-Za-z0-9_-]{8,}/g;

/** The replacement written instead of a secret. */
export const REDACTED = "[REDACTED]";

/** Bounds the walk over nested values; deeper parts are replaced, never traversed. */
const REDACT_DEPTH_MAX = 8;

/** Masks bearer credentials and vltair tokens inside free text. */
export function redactText(text: string): string {
  return text.replace(BEARER, `$1${REDACTED}`).replace(TOKEN_PREFIX, REDACTED);
}

/**
 * Returns a copy of `value` with credential-named keys and credential-looking strings masked.
 *
 * @example
 * ```ts
 * redact({ authorization: "Bearer abc", path: "/v1" }); // { authorization: "[REDACTED]", path: "/v1" }
 * ```
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= REDACT_DEPTH_MAX) return "[DEPTH]";
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return redactError(value);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redact(item, depth + 1);
  }
  return out;
}

function redactError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactText(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (error.stack !== undefined) out.stack = redactText(error.stack);
  return out;
}
