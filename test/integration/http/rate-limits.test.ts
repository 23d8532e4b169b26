/** `rate_limits` over HTTP: 429 rate_limited with Retry-After per token and per tenant, nothing run. */
import { afterEach, describe, expect, test } from "bun:test";
import { ADMIN, createToken, type TestApp, testApp } from "../../support/app.ts";

let t: TestApp | null = null;
afterEach(async () => {
  await t?.app.close();
  t = null;
});

describe("rate_limits", () => {
  test("a token past its burst is 429 rate_limited with Retry-After; others and health are not", async () => {
    t = testApp({ rate_limits: JSON.stringify({ requests_per_s: 1, burst: 2 }) });
    const app = t;
    const list = (token: string) => app.request("/v1/context/docs", { token });
    expect((await list(ADMIN)).status).toBe(200);
    expect((await list(ADMIN)).status).toBe(200);
    const refused = await list(ADMIN);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    const body = (await refused.json()) as { error: { code: string; details: unknown } };
    expect(body.error).toMatchObject({
      code: "rate_limited",
      details: { limit: "rate_limits.requests_per_s", value: 1 },
    });
    const { token } = await createToken(app.app, {
      subject: "s",
      tenant: "other",
      roles: ["writer"],
    });
    expect((await list(token)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await app.request("/v1/health")).status).toBe(200);
    // A write refused by the limit applies nothing.
    const write = await app.request("/v1/context/docs:upsert", {
      method: "POST",
      body: JSON.stringify({ items: [{ id: "x", text: "never" }] }),
    });
    expect(write.status).toBe(429);
    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toContain('vltair_rate_limited_total{limit="requests_per_s"} 2');
    expect(metrics).toContain("vltair_rate_limit_requests_per_second 1");
    const stats = await app.request("/v1/context/stats", {
      token: (await createToken(app.app, { subject: "r", tenant: "default", roles: ["reader"] }))
        .token,
    });
    expect(((await stats.json()) as { documents: number }).documents).toBe(0);
  });

  test("a tenant past its concurrent requests is 429 while one runs; another tenant is not", async () => {
    t = testApp({ rate_limits: JSON.stringify({ concurrent_per_tenant: 1 }) });
    const app = t;
    const a1 = (await createToken(app.app, { subject: "a1", tenant: "acme", roles: ["writer"] }))
      .token;
    const a2 = (await createToken(app.app, { subject: "a2", tenant: "acme", roles: ["writer"] }))
      .token;
    const b = (await createToken(app.app, { subject: "b", tenant: "beta", roles: ["writer"] }))
      .token;
    const abort = new AbortController();
    const exec = (token: string, script: string) =>
      app.request("/v1/sandbox/exec", {
        token,
        method: "POST",
        body: JSON.stringify({ cmd: ["sh", "-c", script] }),
        signal: abort.signal,
      });
    const files = (token: string) => app.request("/v1/sandbox/workspaces/default/files", { token });
    const running = exec(a1, "sleep 30").catch(() => null);
    // Poll until the run holds acme's one slot (a second acme request is refused).
    const deadline = Date.now() + 10_000;
    let refused: Response | null = null;
    while (Date.now() < deadline) {
      const r = await files(a2);
      if (r.status === 429) {
        refused = r;
        break;
      }
    }
    if (refused === null) throw new Error("no request was refused while the run held the slot");
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { details: unknown } }).error.details).toEqual({
      limit: "rate_limits.concurrent_per_tenant",
      value: 1,
    });
    expect((await files(b)).status).toBe(200);
    // Cancelling the request kills the run and gives the slot back.
    abort.abort();
    await running;
    const deadline2 = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline2 && status !== 200) status = (await files(a2)).status;
    expect(status).toBe(200);
  });
});

test("a bad rate_limits key or value is config_invalid naming the field, before anything is created", () => {
  for (const [value, field] of [
    ['{"bogus":1}', "rate_limits.bogus"],
    ['{"burst":0}', "rate_limits.burst"],
  ] as const) {
    let caught: unknown = null;
    try {
      testApp({ rate_limits: value }, { ready: false });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "config_invalid" });
    expect(String((caught as Error).message)).toStartWith(field);
  }
});
