/**
 * First middleware of every request: request id, W3C trace context, a request logger, and on
 * the way out the `x-request-id` / `traceparent` headers, metrics and one `http.request` line.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Histogram, Logger, MetricsRegistry } from "../../obs/mod.ts";
import { LATENCY_BUCKETS_SECONDS } from "../../obs/mod.ts";
import type { AppEnv } from "../env.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** Options of {@link requestContext}. */
export interface RequestContextOptions {
  log: Logger;
  metrics: MetricsRegistry;
  /** Monotonic clock in ms (performance.now), injected for tests. */
  monotonicMs: () => number;
}

/** The trace id of a valid `traceparent` header, else null (W3C: restart the trace). */
export function traceIdOf(traceparent: string | undefined): string | null {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent.trim());
  if (match === null) return null;
  const [, traceId, parentId] = match as unknown as [string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return traceId;
}

/** Creates the request-context middleware. */
export function requestContext(options: RequestContextOptions): MiddlewareHandler<AppEnv> {
  const requests = options.metrics.counter(
    "vltair_http_requests_total",
    "HTTP requests by method, route pattern and status.",
  );
  const latency: Histogram = options.metrics.histogram(
    "vltair_http_request_duration_seconds",
    "HTTP request latency by method, route pattern and status, in seconds.",
    LATENCY_BUCKETS_SECONDS,
  );
  return async function requestContextMiddleware(c, next) {
    const startMs = options.monotonicMs();
    const given = c.req.header("x-request-id");
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    const traceparent = c.req.header("traceparent");
    const traceId = traceIdOf(traceparent) ?? randomBytes(16).toString("hex");
    c.set("requestId", requestId);
    c.set("traceId", traceId);
    c.set("route", "unmatched");
    c.set("log", options.log.child({ request_id: requestId, trace_id: traceId }));
    await next();
    c.res.headers.set("x-request-id", requestId);
    if (traceparent !== undefined && traceIdOf(traceparent) !== null) {
      c.res.headers.set("traceparent", traceparent.trim());
    }
    const durationMs = options.monotonicMs() - startMs;
    const labels = { method: c.req.method, route: c.get("route"), status: String(c.res.status) };
    requests.inc(labels);
    latency.observe(durationMs / 1000, labels);
    const principal = c.var.principal;
    c.get("log").info("http.request", {
      method: c.req.method,
      path: c.req.path,
      route: labels.route,
      status: c.res.status,
      duration_ms: Math.round(durationMs * 1000) / 1000,
      ...(principal === undefined ? {} : { tenant: principal.tenant, subject: principal.subject }),
    });
  };
}
