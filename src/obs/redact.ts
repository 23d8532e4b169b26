/**
 * Redaction of secrets before anything is logged or rendered (STYLE.md, "Logs").
 * A key that names a credential has its value replaced, at any depth, and string values that
 * look like a bearer credential are masked too, so a token pasted into a free-text field does
 * not reach the log either.
 */

const SECRET_KEY = /token|secret|password|passwd|authorization|api[_-]?key|cookie|credential/i;
/** A bearer credential in text (`bearer token` in a sentence names one, it is none). */
const BEARER = /\b(Bearer\s+)(?!tokens?\b)[^\s"']+/gi;
const TOKEN_PREFIX = /\bvlt_[A-Za-z0-9_-]{8,}/g;
/** A credential in a URL's query (`?token=…`, `&api_key=…`). */
const QUERY_SECRET =
  /([?&](?:[a-z_-]*token|[a-z_-]*api[_-]?key|key|secret|password|passwd|sig|signature)=)[^&\s"'#]+/gi;
/** Shorter values are not registered: masking them would mangle ordinary text. */
const SECRET_CHARS_MIN = 8;

/**
 * Secret values this process knows (the admin token, API keys read from the environment): masked
 * wherever they appear, whatever their shape. A process-wide set on purpose — every writer of
 * bytes (logs, error bodies, the CLI's stderr, crash reports) must see the same secrets — that
 * only grows.
 */
const knownSecrets = new Set<string>();

/**
 * Registers a secret value so that every redaction masks it from now on.
 *
 * @example
 * ```ts
 * addSecret(process.env.VLTAIR_EMBEDDER_API_KEY);
 * ```
 */
export function addSecret(value: string | null | undefined): void {
  if (typeof value === "string" && value.length >= SECRET_CHARS_MIN) knownSecrets.add(value);
}

/** The replacement written instead of a secret. */
export const REDACTED = "[REDACTED]";

/** Bounds the walk over nested values; deeper parts are replaced, never traversed. */
const REDACT_DEPTH_MAX = 8;

/** Masks bearer credentials, vltair tokens, query credentials and known secrets in free text. */
export function redactText(text: string): string {
  let out = text
    .replace(BEARER, `$1${REDACTED}`)
    .replace(TOKEN_PREFIX, REDACTED)
    .replace(QUERY_SECRET, `$1${REDACTED}`);
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
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

/**
 * Returns a copy of `value` with credential-looking strings masked at any depth; keys are kept
 * as they are (an error's `details` may name `max_tokens` or a token's id, which are no secrets).
 */
export function redactStrings(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= REDACT_DEPTH_MAX) return "[DEPTH]";
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactStrings(item, depth + 1);
  return out;
}

function redactError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactText(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (error.stack !== undefined) out.stack = redactText(error.stack);
  return out;
}
