/**
 * Request limits after authentication (the caller is known): a token's rate and its tenant's
 * concurrent requests (http/rate-limits.ts). Requests the server sends itself (an MCP tool
 * call's route request) were counted as the MCP message that carried them.
 */
import type { MiddlewareHandler } from "hono";
import { type Call, VltairError } from "../../core/mod.ts";
import type { MetricsRegistry } from "../../obs/mod.ts";
import type { AppEnv } from "../env.ts";
import type { RateLimiter } from "../rate-limits.ts";
import { callOf } from "../route.ts";

const internalRequests = new WeakSet<Request>();

/** Marks a request the server makes of itself (not counted again). */
export function markInternalRequest(request: Request): Request {
  internalRequests.add(request);
  return request;
}

/** Creates the rate-limit middleware. */
export function rateLimit(options: {
  limiter: RateLimiter;
  /** Paths never limited (health, readiness, metrics, the OpenAPI document). */
  exemptPaths: ReadonlySet<string>;
  metrics: MetricsRegistry;
  /** After the limits: counts the request against budgets (throws `budget_exceeded`). */
  admit?: (call: Call) => void;
}): MiddlewareHandler<AppEnv> {
  const { limiter, exemptPaths } = options;
  const refusals = options.metrics.counter(
    "vltair_rate_limited_total",
    "Requests refused by a request limit (429 rate_limited), by limit.",
  );
  options.metrics.gauge(
    "vltair_rate_limit_requests_per_second",
    "Configured sustained requests per second per token (0 = off).",
    () => limiter.limits.requestsPerS,
  );
  options.metrics.gauge(
    "vltair_rate_limit_burst",
    "Configured requests a token may send at once above its rate.",
    () => limiter.limits.burst,
  );
  options.metrics.gauge(
    "vltair_rate_limit_concurrent_per_tenant",
    "Configured requests of one tenant in progress at once.",
    () => limiter.limits.concurrentPerTenant,
  );
  return async function rateLimitMiddleware(c, next) {
    if (exemptPaths.has(c.req.path) || internalRequests.has(c.req.raw)) return next();
    const principal = c.var.principal;
    const key = principal.tokenId ?? `${principal.tenant}\u0000${principal.subject}`;
    const refused = limiter.admit(key, principal.tenant);
    if (refused !== null) {
      refusals.inc({ limit: refused.limit });
      throw new VltairError(
        "rate_limited",
        refused.limit === "requests_per_s"
          ? `this token sends more than ${refused.value} requests per second`
          : `tenant ${principal.tenant} has ${refused.value} requests in progress`,
        {
          details: { limit: `rate_limits.${refused.limit}`, value: refused.value },
          headers: { "retry-after": String(refused.retryAfterS) },
        },
      );
    }
    try {
      options.admit?.(callOf(c));
      await next();
    } finally {
      limiter.leave(principal.tenant);
    }
  };
}
