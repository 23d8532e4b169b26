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
import { type HttpOutput, responseOutput } from "./http-response.ts";

/** Methods an `http` step may use. */
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
/** Longest `with.url`, in characters. */
const URL_CHARS_MAX = 8192;
/** Most request headers of one step. */
const HEADERS_MAX = 64;
/** Longest request header value, in characters. */
const HEADER_VALUE_CHARS_MAX = 8192;
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
    return await responseOutput(response, settings.responseBytesMax);
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
