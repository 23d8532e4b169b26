/** The request limiter: a token bucket per key on an injected clock, and slots per tenant. */
import { describe, expect, test } from "bun:test";
import { RATE_LIMITS, RateLimiter } from "../../../src/http/mod.ts";

function limiter(limits: Partial<ReturnType<typeof RATE_LIMITS.defaults>>) {
  const clock = { ms: 1_000 };
  const l = new RateLimiter({ ...RATE_LIMITS.defaults(), ...limits }, () => clock.ms);
  return { l, clock };
}

describe("RateLimiter", () => {
  test("a bucket admits its burst at once, then its rate, and says when to retry", () => {
    const { l, clock } = limiter({ requestsPerS: 2, burst: 3 });
    const admit = (key = "t1") => {
      const refused = l.admit(key, "acme");
      if (refused === null) l.leave("acme");
      return refused;
    };
    expect([admit(), admit(), admit()]).toEqual([null, null, null]);
    expect(admit()).toEqual({ limit: "requests_per_s", value: 2, retryAfterS: 1 });
    expect(admit("t2")).toBeNull(); // another token has its own bucket
    clock.ms += 499;
    expect(admit()?.limit).toBe("requests_per_s");
    clock.ms += 1; // half a second at 2/s refills one request
    expect(admit()).toBeNull();
    expect(admit()?.limit).toBe("requests_per_s");
    clock.ms += 60_000; // refills to the burst, not beyond
    expect([admit(), admit(), admit(), admit()?.limit]).toEqual([
      null,
      null,
      null,
      "requests_per_s",
    ]);
  });

  test("rate 0 is off: any number of requests pass the bucket", () => {
    const { l } = limiter({ requestsPerS: 0, burst: 1 });
    for (let i = 0; i < 1000; i++) {
      expect(l.admit("k", "t")).toBeNull();
      l.leave("t");
    }
  });

  test("a tenant holds at most its concurrent slots; leaving frees one; tenants are apart", () => {
    const { l } = limiter({ concurrentPerTenant: 2 });
    expect(l.admit("a1", "acme")).toBeNull();
    expect(l.admit("a2", "acme")).toBeNull();
    expect(l.admit("a3", "acme")).toEqual({
      limit: "concurrent_per_tenant",
      value: 2,
      retryAfterS: 1,
    });
    expect(l.admit("b1", "beta")).toBeNull();
    l.leave("acme");
    expect(l.inFlight("acme")).toBe(1);
    expect(l.admit("a3", "acme")).toBeNull();
  });

  test("a refused request takes no slot and no bucket token", () => {
    const { l } = limiter({ requestsPerS: 1, burst: 1, concurrentPerTenant: 1 });
    expect(l.admit("k", "t")).toBeNull();
    expect(l.admit("other", "t")?.limit).toBe("concurrent_per_tenant");
    l.leave("t");
    // `other` was refused for concurrency, so its bucket is still full.
    expect(l.admit("other", "t")).toBeNull();
    expect(l.inFlight("t")).toBe(1);
  });
});
