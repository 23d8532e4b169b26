/**
 * What an `http` step keeps of a response: its status, the headers of {@link RESPONSE_HEADERS}
 * (lower-case names, values cut at 1024 characters), and its body read up to a byte limit —
 * parsed when it is JSON, else UTF-8 text.
 */
import { readBodyBounded } from "../read-body.ts";
import { StepFailure } from "../step-error.ts";

/** Longest response header value kept in the output (longer ones are cut). */
const RESPONSE_HEADER_CHARS_MAX = 1024;

/**
 * Response headers the output keeps: metadata a workflow may branch on. Nothing else (no
 * `Set-Cookie`, no credentials a server hands out) reaches the journal.
 */
export const RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  "cache-control",
  "content-disposition",
  "content-encoding",
  "content-language",
  "content-length",
  "content-type",
  "date",
  "etag",
  "expires",
  "last-modified",
  "link",
  "location",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "retry-after",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "x-request-id",
]);

/** What a step's output holds of a response. */
export interface HttpOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function tooLargeFailure(limitBytes: number): StepFailure {
  return new StepFailure(
    "http_response_too_large",
    `the response body is larger than ${limitBytes} bytes (orchestrator_limits.http_response_bytes_max)`,
    { retryable: false, details: { limit_bytes: limitBytes } },
  );
}

/** Whether a Content-Type is JSON (`application/json`, `application/*+json`). */
function isJson(contentType: string | null): boolean {
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return (
    media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"))
  );
}

/** The body as the output holds it: parsed JSON for a JSON response (empty: null), else text. */
function decodeBody(bytes: Uint8Array, contentType: string | null): unknown {
  const text = new TextDecoder().decode(bytes);
  if (!isJson(contentType)) return text;
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new StepFailure(
      "http_response_invalid",
      "the response says JSON but does not parse as JSON",
      {
        retryable: false,
        details: { content_type: contentType },
      },
    );
  }
}

function keptHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (RESPONSE_HEADERS.has(name)) out[name] = value.slice(0, RESPONSE_HEADER_CHARS_MAX);
  });
  return out;
}

/** The output of a 2xx response, its body read up to `limitBytes`. */
export async function responseOutput(response: Response, limitBytes: number): Promise<HttpOutput> {
  const contentType = response.headers.get("content-type");
  const bytes = await readBodyBounded(response, limitBytes, () => tooLargeFailure(limitBytes));
  return {
    status: response.status,
    headers: keptHeaders(response.headers),
    body: decodeBody(bytes, contentType),
  };
}
