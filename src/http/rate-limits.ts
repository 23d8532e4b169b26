/**
 * Request limits per caller (config `rate_limits`): a token bucket of requests per token, and
 * concurrent requests per tenant. Past either, a request is `429 rate_limited` with
 * `Retry-After` before anything of it runs (issue 17 item 7, TL-4).
 */
import { LimitTable } from "../core/mod.ts";

/** The resolved request limits. */
export interface RateLimits {
  /** Requests per second a token may sustain; 0 = no rate limit. */
  requestsPerS: number;
  /** Requests a token may send at once above its rate (the bucket's size). */
  burst: number;
  /** Requests of one tenant in progress at once, whatever the token. */
  concurrentPerTenant: number;
}

/** Default, bounds, unit and reason of each request limit (docs/configuration.md is checked). */
export const RATE_LIMITS = new LimitTable<keyof RateLimits>("rate_limits", {
  requestsPerS: {
    default: 0,
    min: 0,
    max: 1_000_000,
    unit: "requests/s",
    reason: "sustained requests per token (a token bucket); 0 turns the rate limit off",
  },
  burst: {
    default: 200,
    min: 1,
    max: 1_000_000,
    unit: "requests",
    reason: "requests a token may send at once above its rate (the bucket's size)",
  },
  concurrentPerTenant: {
    default: 256,
    min: 1,
    max: 100_000,
    unit: "requests",
    reason:
      "requests of one tenant in progress at once, so one tenant cannot take every connection",
  },
});

/** Buckets kept before full ones are dropped (a full bucket is the same as none). */
const BUCKETS_SWEEP_AT = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Why a request is refused, and when to retry. */
export interface RateRefusal {
  limit: "requests_per_s" | "concurrent_per_tenant";
  value: number;
  retryAfterS: number;
}

/**
 * The request limits of one server.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter(RATE_LIMITS.defaults(), () => performance.now());
 * const refused = limiter.admit("token-id", "acme");
 * if (refused === null) try { await handle(); } finally { limiter.leave("acme"); }
 * ```
 */
export class RateLimiter {
  readonly limits: RateLimits;
  readonly #monotonicMs: () => number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #inFlight = new Map<string, number>();

  constructor(limits: RateLimits, monotonicMs: () => number) {
    this.limits = limits;
    this.#monotonicMs = monotonicMs;
  }

  /**
   * Admits a request of `key` (a token) in `tenant`, or says why not. An admitted request holds
   * a slot of its tenant until {@link RateLimiter.leave}.
   */
  admit(key: string, tenant: string): RateRefusal | null {
    const inFlight = this.#inFlight.get(tenant) ?? 0;
    if (inFlight >= this.limits.concurrentPerTenant) {
      return {
        limit: "concurrent_per_tenant",
        value: this.limits.concurrentPerTenant,
        retryAfterS: 1,
      };
    }
    const refused = this.#take(key);
    if (refused !== null) return refused;
    this.#inFlight.set(tenant, inFlight + 1);
    return null;
  }

  /** Gives back the tenant's slot of an admitted request. */
  leave(tenant: string): void {
    const inFlight = (this.#inFlight.get(tenant) ?? 1) - 1;
    if (inFlight <= 0) this.#inFlight.delete(tenant);
    else this.#inFlight.set(tenant, inFlight);
  }

  /** Requests in progress of `tenant`. */
  inFlight(tenant: string): number {
    return this.#inFlight.get(tenant) ?? 0;
  }

  #take(key: string): RateRefusal | null {
    const { requestsPerS, burst } = this.limits;
    if (requestsPerS === 0) return null;
    const nowMs = this.#monotonicMs();
    const bucket = this.#buckets.get(key) ?? { tokens: burst, atMs: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.atMs) * requestsPerS) / 1000);
    bucket.atMs = nowMs;
    if (bucket.tokens < 1) {
      this.#buckets.set(key, bucket);
      return {
        limit: "requests_per_s",
        value: requestsPerS,
        retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / requestsPerS)),
      };
    }
    bucket.tokens -= 1;
    if (!this.#buckets.has(key) && this.#buckets.size >= BUCKETS_SWEEP_AT) this.#sweep(nowMs);
    this.#buckets.set(key, bucket);
    return null;
  }

  /** Drops buckets that have refilled: they admit exactly as a new one would. */
  #sweep(nowMs: number): void {
    const { requestsPerS, burst } = this.limits;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + ((nowMs - b.atMs) * requestsPerS) / 1000 >= burst) this.#buckets.delete(key);
    }
  }
}
