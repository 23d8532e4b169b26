/** Issue 17's acceptance for policies, through the HTTP app: Cedar sets per level, hot reload. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_POLICY } from "../../../src/policy/mod.ts";
import { type ContextTestApp, contextApp, type Json } from "../../support/context.ts";

const DENY_ALL = `${DEFAULT_POLICY}@id("deny-all") forbid(principal, action, resource);`;

async function put(
  t: ContextTestApp,
  cedar: string,
  options: { tenant?: string; token?: string } = {},
) {
  const query = options.tenant === undefined ? "" : `?tenant=${options.tenant}`;
  const response = await t.request(`/v1/policy${query}`, {
    method: "PUT",
    body: JSON.stringify({ cedar }),
    ...(options.token === undefined ? {} : { token: options.token }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const upsert = (id: string) => ({ items: [{ id, text: `text of ${id}` }] });
const exec = { cmd: ["true"] };

describe("policy over HTTP", () => {
  test("a fresh install behaves as today: every action allowed by the shipped default", async () => {
    const t = await contextApp();
    const writer = await t.tokenFor("acme", "writer");
    expect((await t.post("/v1/context/docs:upsert", upsert("a"), writer)).status).toBe(200);
    expect((await t.call("GET", "/v1/context/docs/a", writer)).status).toBe(200);
    expect((await t.post("/v1/sandbox/exec", exec, writer)).body.status).toBe("OK");
    expect((await t.call("GET", "/v1/policy")).body).toEqual({
      cedar: DEFAULT_POLICY,
      version: 0,
      updated_at: null,
    });
    await t.app.close();
  });

  test("a tenant's deny-all makes its next exec, context write and read 403 policy_denied, each audited; the other tenant is unaffected", async () => {
    const t = await contextApp();
    const acme = await t.tokenFor("acme", "writer");
    const beta = await t.tokenFor("beta", "writer");
    expect((await t.post("/v1/context/docs:upsert", upsert("before"), acme)).status).toBe(200);
    expect(await put(t, DENY_ALL, { tenant: "acme" })).toEqual({
      status: 200,
      body: { version: 1 },
    });
    const walIndex = t.app.storage.lastIndex;
    const denied = [
      await t.post("/v1/sandbox/exec", exec, acme),
      await t.post("/v1/context/docs:upsert", upsert("after"), acme),
      await t.post("/v1/context/docs:delete", { items: [{ id: "before" }] }, acme),
      await t.call("GET", "/v1/context/docs/before", acme),
      await t.post("/v1/context/search", { query: "text" }, acme),
    ];
    for (const { status, body } of denied) {
      expect(status).toBe(403);
      expect(body.error.code).toBe("policy_denied");
      expect(body.error.details.reasons).toEqual(["deny-all"]);
      expect(body.error.details.policy_version).toBe(1);
    }
    // Each denial is an audit record of acme's chain (written in the background: polled).
    const denialsOf = async () =>
      ((await t.call("GET", "/v1/audit?tenant=acme&decision=deny")).body.records as Json[]).map(
        (r) => [r.action, r.reasons, r.policy_version],
      );
    const deadline = Date.now() + 10_000;
    while ((await denialsOf()).length < denied.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await denialsOf()).toEqual([
      ["exec", ["deny-all"], 1],
      ["context.write", ["deny-all"], 1],
      ["context.write", ["deny-all"], 1],
      ["context.read", ["deny-all"], 1],
      ["context.read", ["deny-all"], 1],
    ]);
    // The policy change is audited; the refused writes are not audited as writes.
    const acmeAudit = (await t.call("GET", "/v1/audit?tenant=acme")).body.records as Json[];
    // Each allowed write carries the version that allowed it (0: the shipped defaults); a token
    // change is decided by roles alone (no version).
    const allowed = acmeAudit.filter((r) => r.decision === "allow");
    expect(allowed.map((r) => [r.action, r.policy_version])).toEqual([
      ["token.create", null],
      ["context.write", 0],
      ["policy.put", 1],
    ]);
    const walAfterDenials = t.app.storage.lastIndex;
    expect((await t.post("/v1/context/docs:upsert", upsert("b"), beta)).status).toBe(200);
    expect((await t.post("/v1/sandbox/exec", exec, beta)).body.status).toBe("OK");
    // Nothing of the refused writes was applied: beta's upsert and its audit record, and the
    // audit record of beta's run, are all.
    expect(t.app.storage.lastIndex).toBe(walAfterDenials + 3);
    expect(walAfterDenials).toBe(walIndex + denied.length);
    await t.app.close();
  });

  test("an invalid set is 400 policy_invalid with the validator's messages; the old one stays", async () => {
    const t = await contextApp();
    await put(t, DENY_ALL, { tenant: "acme" });
    const bad = await put(t, 'forbid(principal, action, resource) when { context.nope == "x" };', {
      tenant: "acme",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("policy_invalid");
    expect(bad.body.error.details.errors[0].message).toContain("nope");
    const current = await t.call("GET", "/v1/policy?tenant=acme");
    expect(current.body).toMatchObject({ cedar: DENY_ALL, version: 1 });
    const versions = await t.call("GET", "/v1/policy/versions?tenant=acme");
    expect(versions.body.versions.map((v: Json) => v.version)).toEqual([1]);
    await t.app.close();
  });

  test("policy versions survive a restart", async () => {
    const first = await contextApp();
    await put(first, DENY_ALL, { tenant: "acme" });
    await put(first, DEFAULT_POLICY);
    await first.app.close();
    const second = await contextApp({ data_dir: first.config.data_dir });
    expect((await second.call("GET", "/v1/policy?tenant=acme")).body.version).toBe(1);
    expect((await second.call("GET", "/v1/policy")).body.version).toBe(2);
    const acme = await second.tokenFor("acme", "writer");
    const denied = await second.post("/v1/context/docs:upsert", upsert("x"), acme);
    expect(denied.body.error.details).toMatchObject({ reasons: ["deny-all"], policy_version: 2 });
    await second.app.close();
  });

  test("a tenant admin manages its own set, not the global one nor another tenant's", async () => {
    const t = await contextApp();
    const admin = await t.tokenFor("acme", "admin");
    expect((await put(t, DENY_ALL, { token: admin })).status).toBe(200);
    expect((await t.call("GET", "/v1/policy?tenant=acme")).body.version).toBe(1);
    expect((await t.call("GET", "/v1/policy")).body.version).toBe(0);
    for (const query of ["?tenant=beta"]) {
      const other = await t.call("GET", `/v1/policy${query}`, admin);
      expect(other.body.error.code).toBe("forbidden");
    }
    const writer = await t.tokenFor("acme", "writer");
    expect((await put(t, DENY_ALL, { token: writer })).body.error.code).toBe("forbidden");
    await t.app.close();
  });

  test("POST /v1/policy:check is a dry run against the stored sets or a candidate", async () => {
    const t = await contextApp();
    const context = { scope_kind: "global", scope_id: "", id: "a" };
    const stored = await t.post("/v1/policy:check", { action: "context.write", context });
    expect(stored.body).toEqual({ decision: "allow", reasons: ["default"], policy_version: 0 });
    const candidate = await t.post("/v1/policy:check", {
      action: "context.write",
      context,
      cedar: DENY_ALL,
    });
    expect(candidate.body).toEqual({
      decision: "deny",
      reasons: ["deny-all"],
      policy_version: null,
    });
    const invalid = await t.post("/v1/policy:check", { action: "context.write", context: {} });
    expect(invalid.body.error).toMatchObject({ code: "validation_failed" });
    // The dry run stored nothing.
    expect((await t.call("GET", "/v1/policy")).body.version).toBe(0);
    await t.app.close();
  });

  test("GET /v1/policy/schema serves the Cedar schema policies are validated against", async () => {
    const t = await contextApp();
    const reader = await t.tokenFor("acme", "reader");
    const { status, body } = await t.call("GET", "/v1/policy/schema", reader);
    expect(status).toBe(200);
    expect(body.cedar).toContain("entity Principal in [Tenant]");
    expect(Object.keys(body.json.vltair.actions).sort()).toEqual([
      "context.read",
      "context.write",
      "exec",
      "http.fetch",
      "llm.call",
      "run.start",
    ]);
    await t.app.close();
  });
});
