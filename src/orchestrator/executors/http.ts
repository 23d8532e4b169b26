/**
 * `http`: one request to a host the operator allows (`http_allowed_hosts`; none by default, so
 * the kind fails closed), after policy allows the run's `Call` an `http.fetch` of that host and
 * method. It carries `Idempotency-Key: {run_id}:{step_id}:{attempt}` (a call repeated after a
 * crash has the same key, so the server can deduplicate it: delivery is at least once), is
 * aborted by the call's signal (cancel, the step's timeout, shutdown) and by its own
 * `timeout_ms`, reads at most `http_response_bytes_max` bytes, and is audited in the run's
 * tenant's chain whatever its outcome. Redirects are not followed: a `Location` may name a
 * host outside the allowlist (or an address inside the network), so a 3xx fails the step
 * (`http_status`, not retried) instead of being fetched unchecked. Header values are never
 * echoed: not in the output, the error, the audit record or a log line.
 */
import * as v from "valibot";
import { StepFailure } from "../step-error.ts";
import { timeoutSignal } from "../timers.ts";
import { STEP_TIMEOUT_MS_MAX } from "../workflow-schema.ts";
import type { HttpSettings, StepContext, StepKindSpec } from "./executor.ts";

/** Methods an `http` step may use. */
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
/** Longest `with.url`, in characters. */
const URL_CHARS_MAX = 8192;
/** Most request headers of one step. */
const HEADERS_MAX = 64;
/** Longest request header value, in characters. */
const HEADER_VALUE_CHARS_MAX = 8192;
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

/** Request headers a step may not set: the connection's framing, and the key vltair sends. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "content-length",
  "expect",
  "host",
  "idempotency-key",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** `text` as an http(s) URL without credentials, or null. */
function fetchableUrl(text: string): URL | null {
  if (!URL.canParse(text)) return null;
  const url = new URL(text);
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return url.username === "" && url.password === "" ? url : null;
}

// Messages are fixed text: a refused value (a header, a URL with a token in its query) is
// never repeated in the step's error.
const HeaderName = v.pipe(
  v.string(),
  v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, "header names must be HTTP tokens"),
  v.check(
    (name) => !RESERVED_HEADERS.has(name.toLowerCase()),
    "is set by vltair or the connection (Host, Content-Length, Idempotency-Key, …)",
  ),
);
const HeaderValue = v.pipe(
  v.string("header values must be strings"),
  v.maxLength(
    HEADER_VALUE_CHARS_MAX,
    `header values must be at most ${HEADER_VALUE_CHARS_MAX} characters`,
  ),
  v.regex(/^[^\r\n\0]*$/, "header values must not hold CR, LF or NUL"),
);

const HttpWithEntries = v.strictObject({
  url: v.pipe(
    v.string("must be a string"),
    v.maxLength(URL_CHARS_MAX, `must be at most ${URL_CHARS_MAX} characters`),
    v.check(
      (text) => fetchableUrl(text) !== null,
      "must be an http or https URL without credentials",
    ),
  ),
  method: v.optional(v.picklist(HTTP_METHODS, `must be one of ${HTTP_METHODS.join(", ")}`)),
  headers: v.optional(
    v.pipe(
      v.record(HeaderName, HeaderValue, "must be an object of header names to strings"),
      v.check(
        (h) => Object.keys(h).length <= HEADERS_MAX,
        `must hold at most ${HEADERS_MAX} headers`,
      ),
    ),
  ),
  /** A string is sent as it is; any other JSON value as `application/json`. */
  body: v.optional(v.unknown()),
  timeout_ms: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(STEP_TIMEOUT_MS_MAX)),
  ),
});

const HttpWith = v.pipe(
  HttpWithEntries,
  v.forward(
    v.check(
      (w) => w.body === undefined || !["GET", "HEAD"].includes(w.method ?? "GET"),
      "a GET or HEAD request has no body",
    ),
    ["body"],
  ),
);
type HttpWithValue = v.InferOutput<typeof HttpWith>;

/** What a step's output holds of a response. */
interface HttpOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function requestInit(w: HttpWithValue, idempotencyKey: string, signal: AbortSignal): RequestInit {
  const headers = new Headers(w.headers);
  headers.set("idempotency-key", idempotencyKey);
  let body: string | undefined;
  if (typeof w.body === "string") body = w.body;
  else if (w.body !== undefined) {
    body = JSON.stringify(w.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return {
    method: w.method ?? "GET",
    headers,
    ...(body === undefined ? {} : { body }),
    redirect: "manual",
    signal,
  };
}

/** A failure for a response whose status is not 2xx; 429 and 5xx may pass on another attempt. */
function statusFailure(status: number): StepFailure | null {
  if (status >= 200 && status < 300) return null;
  const retryable = status === 429 || status >= 500;
  const why = status >= 300 && status < 400 ? " (redirects are not followed)" : "";
  return new StepFailure("http_status", `the server answered ${status}${why}`, {
    retryable,
    details: { status },
  });
}

function tooLarge(limitBytes: number): StepFailure {
  return new StepFailure(
    "http_response_too_large",
    `the response body is larger than ${limitBytes} bytes (orchestrator_limits.http_response_bytes_max)`,
    { retryable: false, details: { limit_bytes: limitBytes } },
  );
}

/** The body's bytes, reading no more than `limitBytes` + one chunk. */
async function readBounded(response: Response, limitBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > limitBytes) {
    await response.body?.cancel();
    throw tooLarge(limitBytes);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel();
      throw tooLarge(limitBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
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

/** A short identifier of a network error (`ECONNREFUSED`, `ConnectionRefused`), never its text. */
function causeOf(error: unknown): string | null {
  for (const e of [error, (error as { cause?: unknown } | null)?.cause]) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === "string" && /^[A-Za-z0-9_]{1,64}$/.test(code)) return code;
  }
  return null;
}

/** What the attempt failed with: the call's abort, the fetch's timeout, or an unreachable host. */
function failureOf(error: unknown, call: AbortSignal, timeout: AbortSignal, host: string): unknown {
  if (error instanceof StepFailure) return error;
  if (call.aborted) return call.reason;
  if (timeout.aborted) return timeout.reason;
  return new StepFailure("http_unreachable", `no response from ${host}`, {
    retryable: true,
    details: { host, cause: causeOf(error) },
  });
}

/** The exchange, bounded in time and size; throws the step's failure. */
async function exchange(
  url: URL,
  w: HttpWithValue,
  ctx: StepContext,
  settings: HttpSettings,
  seen: { status: number | null },
): Promise<HttpOutput> {
  const timeoutMs = w.timeout_ms ?? settings.timeoutMsDefault;
  const timeout = timeoutSignal(
    ctx.timers,
    timeoutMs,
    () =>
      new StepFailure("http_timeout", `no complete response within ${timeoutMs} ms`, {
        retryable: true,
        details: { timeout_ms: timeoutMs },
      }),
  );
  const signal = AbortSignal.any([ctx.call.signal, timeout.signal]);
  try {
    const response = await fetch(url, requestInit(w, ctx.idempotencyKey, signal));
    seen.status = response.status;
    const failure = statusFailure(response.status);
    if (failure !== null) {
      await response.body?.cancel();
      throw failure;
    }
    const contentType = response.headers.get("content-type");
    const bytes = await readBounded(response, settings.responseBytesMax);
    return {
      status: response.status,
      headers: keptHeaders(response.headers),
      body: decodeBody(bytes, contentType),
    };
  } catch (error) {
    throw failureOf(error, ctx.call.signal, timeout.signal, url.hostname);
  } finally {
    timeout.cancel();
  }
}

export const httpKind: StepKindSpec<HttpWithValue> = {
  kind: "http",
  withSchema: HttpWith,
  withKeys: Object.keys(HttpWithEntries.entries),
  holdsSlot: true,
  async run(step, ctx) {
    const { http: settings, policy, audit } = ctx.services;
    const url = fetchableUrl(step.with.url) as URL;
    const method = step.with.method ?? "GET";
    const host = url.hostname;
    if (settings === undefined || !settings.allowedHosts.allows(host)) {
      throw new StepFailure("http_host_denied", `${host} is not in http_allowed_hosts`, {
        retryable: false,
        details: { host },
      });
    }
    policy?.check(ctx.call, "http.fetch", { host, method });
    const seen = { status: null as number | null };
    let outcome: { output: HttpOutput } | { error: unknown };
    try {
      outcome = { output: await exchange(url, step.with, ctx, settings, seen) };
    } catch (error) {
      outcome = { error };
    }
    const code = !("error" in outcome)
      ? null
      : outcome.error instanceof StepFailure
        ? outcome.error.code
        : "aborted";
    // Every call is a side effect of the run's tenant, audited whatever came of it; the
    // resource leaves out the query (it may carry tokens).
    await audit?.(ctx.call, {
      action: "http.fetch",
      resource: `${url.origin}${url.pathname}`,
      runId: ctx.runId,
      details: {
        method,
        status: seen.status,
        ...(code === null || code === "http_status" ? {} : { error: code }),
      },
    });
    if ("error" in outcome) throw outcome.error;
    return { output: outcome.output };
  },
};
